/** `/api/v1/metadata`: metric metadata, as learned from senders (local) or as the remote storage keeps it. */
import type { PromQueryService } from '../../metrics/query/service.js';
import { json, type Router } from './http.js';
import { limitParam } from './params.js';
import type { QueryGate } from './query_gate.js';
import { serviceCall } from './query.js';

/** Registers the metadata endpoint. */
export function registerMetadataApi(router: Router, service: PromQueryService, gate: QueryGate): void {
  router.on('GET', '/api/v1/metadata', async (req) => {
    const metric = req.query.get('metric') || undefined;
    const limit = limitParam(req.query);
    return json(await serviceCall(gate, req.signal, () => service.metadata(metric, limit, req.signal)));
  });
}
