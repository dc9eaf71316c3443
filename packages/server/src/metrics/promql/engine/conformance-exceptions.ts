/**
 * Conformance evals known to fail, as `file:line` of the `eval` command with the reason. The
 * conformance test fails when a listed eval passes, so this list cannot rot: remove entries as
 * the engine improves. Keep it as short as possible.
 */
export const CONFORMANCE_EXCEPTIONS: Readonly<Record<string, string>> = {};
