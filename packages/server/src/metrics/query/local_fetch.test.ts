// The local query service with a remote_read source that never answers: the caller's deadline or
// cancellation ends the query with the engine's own errors, not the HTTP client's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalPromQueryService } from './local.js';
import { MetadataStore } from '../metadata.js';
import { ExemplarStorage } from '../exemplars/storage.js';
import { Engine } from '../promql/engine/engine.js';
import { EngineError } from '../promql/engine/errors.js';
import { Head } from '../tsdb/head.js';
import { RemoteReadStore } from '../remoteread/store.js';
import { DEFAULT_HTTP_CLIENT_CONFIG } from '../../core/httpclient/config.js';

test('a query waiting on a silent remote_read source stops at its deadline (timeout) or when its caller goes (canceled)', async () => {
  const silent = http.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const remote = new RemoteReadStore({
    url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/api/v1/read`,
    name: 'silent',
    remoteTimeoutMs: 60_000,
    headers: {},
    readRecent: true,
    requiredMatchers: {},
    filterExternalLabels: true,
    httpClient: DEFAULT_HTTP_CLIENT_CONFIG,
  });
  const svc = new LocalPromQueryService(
    new Engine(),
    new Head({ maxFutureMs: Infinity }),
    new MetadataStore(),
    new ExemplarStorage({ maxExemplars: 0 }),
    undefined,
    [remote],
  );
  try {
    await assert.rejects(svc.instant('up', 1000, { signal: AbortSignal.timeout(100) }), (e: unknown) => e instanceof EngineError && e.code === 'timeout');
    const gone = new AbortController();
    setTimeout(() => gone.abort(), 50);
    await assert.rejects(
      svc.range('rate(up[1m])', 0, 60_000, 15_000, { signal: gone.signal }),
      (e: unknown) => e instanceof EngineError && e.code === 'canceled',
    );
    // Label calls too.
    const gone2 = new AbortController();
    setTimeout(() => gone2.abort(), 50);
    await assert.rejects(svc.labelNames({ matchers: [], limit: 0, signal: gone2.signal }), (e: unknown) => e instanceof EngineError && e.code === 'canceled');
  } finally {
    svc.close();
    silent.closeAllConnections();
    silent.close();
  }
});
