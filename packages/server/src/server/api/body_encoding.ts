/**
 * Content-Encoding of push bodies (OTLP metrics, logs and traces; Loki; Zipkin): one place that
 * inflates gzip and deflate within the endpoint's size limit and words the refusals alike: 415 for
 * an encoding the endpoint does not take, 413 for a body that inflates past the limit, 400 for one
 * that does not inflate. Each receiver passes its own error type, as its protocol answers with it.
 */
import { inflateSync } from 'node:zlib';
import { gunzipWithin } from '../../core/util/gunzip.js';

/** Makes the receiver's error for a refused body. */
export type BodyRefusal = (status: 400 | 413 | 415, message: string) => Error;

/**
 * The body with its Content-Encoding undone (gzip or deflate; none or `identity` as it is),
 * at most `max` bytes inflated; `limitName` names the limit in the 413 message.
 */
export function inflateRequestBody(body: Buffer, contentEncoding: string | string[] | undefined, max: number, limitName: string, refuse: BodyRefusal): Buffer {
  const enc = String(contentEncoding ?? '').toLowerCase();
  if (!enc || enc === 'identity') return body;
  if (enc !== 'gzip' && enc !== 'deflate') throw refuse(415, `unsupported Content-Encoding ${enc}: want gzip, deflate or none`);
  try {
    return enc === 'gzip' ? gunzipWithin(body, max) : inflateSync(body, { maxOutputLength: max });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw refuse(413, `the ${enc} body inflates past ${limitName} (${max} bytes)`);
    throw refuse(400, `cannot decompress the ${enc} body: ${(err as Error).message}`);
  }
}
