/** Admin and lifecycle endpoints: health, readiness and TSDB maintenance. */
import type { DB } from '../../metrics/tsdb/db.js';
import { json, text, type Router } from './http.js';

/** What readiness depends on: started, and every store able to take writes. */
export interface Readiness {
  started(): boolean;
  /** Why writes are being refused (for example a full disk), one line per store; empty when none. */
  writeProblems(): string[];
}

/** Registers `/-/healthy`, `/-/ready` and `/api/v1/admin/tsdb/flush`. */
export function registerAdminApi(router: Router, db: DB, readiness: Readiness): void {
  registerHealthApi(router, readiness);
  // Cuts the whole head into blocks now, for backups and benchmarks; Prometheus' snapshot is the peer.
  router.on(['POST', 'PUT'], '/api/v1/admin/tsdb/flush', async () => {
    await db.flush();
    return json({
      blocks: db.listBlocks().map((b) => ({ ulid: b.meta.ulid, minTime: b.minTime, maxTime: b.maxTime, stats: b.meta.stats, bytes: b.sizeBytes })),
    });
  });
}

/** Registers `/-/healthy` and `/-/ready` (the agent has these and no admin API). */
export function registerHealthApi(router: Router, readiness: Readiness): void {
  router.on('GET', '/-/healthy', () => text(200, 'Vigil is Healthy.\n'));
  router.on('GET', '/-/ready', () => {
    if (!readiness.started()) return text(503, 'Service Unavailable\n');
    // Not ready for writes: senders should go elsewhere or wait; reads keep working meanwhile.
    const problems = readiness.writeProblems();
    if (problems.length) return text(503, `Vigil is not ready: ${problems.join('; ')}\n`);
    return text(200, 'Vigil is Ready.\n');
  });
}
