/** Helpers for the parser tests: run a parser to the end and print what it saw, one line per entry. */
import { histogramString } from '../core/model/histogram.js';
import { formatLabels } from '../core/model/labels.js';
import { ExpositionError } from '../metrics/scrape/parser/errors.js';
import { createParser } from '../metrics/scrape/parser/index.js';
import type { ProtobufParserOptions } from '../metrics/scrape/parser/protoparse.js';
import type { Exemplar, ExpositionFormat, ExpositionParser } from '../metrics/scrape/parser/types.js';

function exemplarText(ex: Exemplar): string {
  return ` # ${formatLabels(ex.labels)} ${ex.value}${ex.ts !== undefined ? ` @${ex.ts}` : ''}`;
}

/** One entry as text: `series name{…} value [@ts] [# {…} value [@ts]]`, `help name "text"`, … */
export function describeEntry(p: ExpositionParser, kind: string): string {
  switch (kind) {
    case 'series': {
      let s = `${formatLabels(p.labels())} ${p.value()}`;
      const ts = p.timestamp();
      if (ts !== undefined) s += ` @${ts}`;
      const ex = p.exemplar();
      if (ex) s += exemplarText(ex);
      return s;
    }
    case 'histogram': {
      let s = `${formatLabels(p.labels())} ${histogramString(p.histogram())}`;
      const ts = p.timestamp();
      if (ts !== undefined) s += ` @${ts}`;
      for (const ex of p.histogramExemplars()) s += exemplarText(ex);
      return s;
    }
    case 'help':
      return `help ${p.family()} ${JSON.stringify(p.help())}`;
    case 'type':
      return `type ${p.family()} ${p.type()}`;
    case 'unit':
      return `unit ${p.family()} ${p.unit()}`;
    default:
      return kind;
  }
}

/** Parses `body` to the end; returns the entries, or throws what the parser threw. */
export function collect(body: string | Buffer, format: ExpositionFormat, histograms?: ProtobufParserOptions): string[] {
  const p = createParser(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, format, histograms);
  const out: string[] = [];
  for (;;) {
    const k = p.next();
    if (k === 'eof') return out;
    out.push(describeEntry(p, k));
  }
}

/**
 * Runs a parser over `body` touching every accessor; returns the number of entries, or the
 * ExpositionError. Any other exception propagates, which is what hostile-input tests look for.
 */
export function drain(body: Buffer, format: ExpositionFormat, histograms?: ProtobufParserOptions): number | ExpositionError {
  const p = createParser(body, format, histograms);
  let n = 0;
  try {
    for (;;) {
      const k = p.next();
      if (k === 'eof') return n;
      n++;
      if (k === 'series' || k === 'histogram') {
        if (k === 'histogram') {
          p.histogram();
          p.histogramExemplars();
        }
        p.createdTimestamp();
        p.seriesKey();
        p.labels();
        p.value();
        p.timestamp();
        p.exemplar();
        p.isCreated();
        p.seriesType();
      } else {
        p.family();
        if (k === 'help') p.help();
        else if (k === 'unit') p.unit();
        else p.type();
      }
    }
  } catch (err) {
    if (err instanceof ExpositionError) return err;
    throw err;
  }
}
