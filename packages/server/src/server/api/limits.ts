/** `GET /api/v1/status/limits`: every configured limit with its usage and refusals (the UI's Status page shows it). */
import type { LimitsReport } from '../selfmon/limits.js';
import { json, type Router } from './http.js';

export function registerLimitsApi(router: Router, report: LimitsReport): void {
  router.on('GET', '/api/v1/status/limits', () => json(report.status()));
}
