/** Admin and lifecycle endpoints: health, readiness and TSDB maintenance. */
import type { DB } from '../tsdb/db.js';
import { json, text, type Router } from './http.js';

/** Registers `/-/healthy`, `/-/ready` and `/api/v1/admin/tsdb/flush`. */
export function registerAdminApi(router: Router, db: DB, isReady: () => boolean): void {
  router.on('GET', '/-/healthy', () => text(200, 'Vigil is Healthy.\n'));
  router.on('GET', '/-/ready', () => (isReady() ? text(200, 'Vigil is Ready.\n') : text(503, 'Service Unavailable\n')));
  // Cuts the whole head into blocks now, for backups and benchmarks; Prometheus' snapshot is the peer.
  router.on(['POST', 'PUT'], '/api/v1/admin/tsdb/flush', () => {
    db.flush();
    return json({ blocks: db.listBlocks().map((b) => ({ ulid: b.meta.ulid, minTime: b.minTime, maxTime: b.maxTime, stats: b.meta.stats, bytes: b.sizeBytes })) });
  });
}
