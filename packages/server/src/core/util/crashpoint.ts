/**
 * Named crash points for fault-injection tests. When the environment variable VIGIL_CRASH_AT names
 * a point (optionally `name:N` for its N-th pass), the process kills itself with SIGKILL right there,
 * exactly as a power cut or the OOM killer would stop it. Unset (always, outside tests), a crash
 * point costs one comparison.
 */

const target = process.env['VIGIL_CRASH_AT'] ?? '';
const [targetName, targetPass] = target.split(':') as [string, string | undefined];
const wantPass = targetPass ? Number(targetPass) : 1;
let passes = 0;

/** Dies here with SIGKILL if VIGIL_CRASH_AT names this point (and this is its chosen pass). */
export function crashPoint(name: string): void {
  if (targetName === '' || name !== targetName) return;
  if (++passes < wantPass) return;
  process.kill(process.pid, 'SIGKILL');
}
