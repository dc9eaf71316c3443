/**
 * The alerting HTTP API: Alertmanager's `/api/v2` (see am_v2.ts) and Vigil's own
 * `/api/v1/alertmanager` endpoints for acknowledgements, manual resolves, history and statistics
 * (see am_extras.ts), both served on Vigil's main port.
 */
import type { AlertRouter } from '../../alerting/alertmanager/router.js';
import type { Router } from './http.js';
import { registerAlertmanagerExtras } from './am_extras.js';
import { registerAlertmanagerV2 } from './am_v2.js';

/** Registers every alerting route on `router`. `version` is reported by `/api/v2/status`. */
export function registerAlertmanagerApi(router: Router, am: AlertRouter, version?: string): void {
  registerAlertmanagerV2(router, am, version);
  registerAlertmanagerExtras(router, am);
}
