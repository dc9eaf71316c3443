/** `/api/v1/metadata`: metric metadata as learned from senders. */
import type { MetadataStore } from '../../metrics/metadata.js';
import { json, type Router } from './http.js';
import { limitParam } from './params.js';

/** Registers the metadata endpoint. */
export function registerMetadataApi(router: Router, store: MetadataStore): void {
  router.on('GET', '/api/v1/metadata', (req) => {
    const metric = req.query.get('metric');
    const limit = limitParam(req.query);
    const out: Record<string, Array<{ type: string; help: string; unit: string }>> = {};
    for (const [family, md] of metric ? ([[metric, store.get(metric)]] as const) : store.list(limit)) {
      if (md) out[family] = [md];
    }
    return json(out);
  });
}
