import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError, VigilError } from '../../core/errors.js';
import { DurationError } from '../../core/time/duration.js';
import { SilenceError, SilenceExpiredError, SilenceNotFoundError } from '../../alerting/alertmanager/silence.js';
import { AlertValidationError } from '../../alerting/alertmanager/router.js';
import { EngineError } from '../../metrics/promql/engine/errors.js';
import { RemoteWriteError } from '../../metrics/remotewrite/receiver.js';
import { alertmanagerStatus, ApiError, remoteWriteAnswer, toApiError } from './errors.js';

test('every error of the family carries its code and its class name', () => {
  const errors: ReadonlyArray<readonly [VigilError, string, string]> = [
    [new DurationError('x'), 'DurationError', 'bad_data'],
    [new StorageError('disk_full', 'x'), 'StorageError', 'disk_full'],
    [new EngineError('timeout', 'x'), 'EngineError', 'timeout'],
    [new SilenceExpiredError('x'), 'SilenceExpiredError', 'silence_expired'],
    [new ApiError('not_found', 'x'), 'ApiError', 'not_found'],
  ];
  for (const [err, name, code] of errors) {
    assert.ok(err instanceof VigilError);
    assert.equal(err.name, name);
    assert.equal(err.code, code);
    assert.match(String(err.stack), new RegExp(`^${name}: x`));
  }
});

test('the Prometheus API reports input and engine errors under their own type, and nothing else', () => {
  assert.equal(toApiError(new EngineError('execution', 'boom'))?.status, 422);
  assert.equal(toApiError(new EngineError('timeout', 'slow'))?.status, 503);
  const bad = toApiError(new DurationError('not a valid duration string: "x"'));
  assert.deepEqual([bad?.type, bad?.status, bad?.message], ['bad_data', 400, 'not a valid duration string: "x"']);
  assert.equal(toApiError(new StorageError('overloaded', 'busy')), undefined);
  assert.equal(toApiError(new Error('bug')), undefined);
});

test('the Alertmanager API answers as Alertmanager: 400 for bad input, 404 unknown, 500 already expired', () => {
  assert.equal(alertmanagerStatus(new SilenceError('no matchers')), 400);
  assert.equal(alertmanagerStatus(new AlertValidationError('bad labels')), 400);
  assert.equal(alertmanagerStatus(new SilenceNotFoundError('silence 1 not found')), 404);
  assert.equal(alertmanagerStatus(new SilenceExpiredError('silence 1 already expired')), 500);
  assert.equal(alertmanagerStatus(new StorageError('closed', 'x')), 503);
  assert.equal(alertmanagerStatus(new StorageError('disk_full', 'x')), 507);
  assert.equal(alertmanagerStatus(new Error('bug')), undefined);
});

test('remote write refusals: only passing conditions are 5xx, with a retry hint', () => {
  assert.deepEqual(remoteWriteAnswer(new RemoteWriteError('bad_request', 'x')), { status: 400 });
  assert.deepEqual(remoteWriteAnswer(new RemoteWriteError('overloaded', 'x')), { status: 503, retryAfterSec: 1 });
  assert.deepEqual(remoteWriteAnswer(new RemoteWriteError('disk_full', 'x')), { status: 507, retryAfterSec: 10 });
  assert.deepEqual(remoteWriteAnswer(new ApiError('too_large', 'x')), { status: 413 });
  assert.equal(remoteWriteAnswer(new StorageError('overloaded', 'x')), undefined);
});
