import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { truncatedError } from '../../lib/adapters/wal-rules.ts';
import { unrecoverableApplyError } from '../../lib/aws/querynode.ts';
import type { EngineDatabase } from '../../lib/engine/engine-database.ts';
import { NotFoundError } from '../../lib/engine/errors.ts';

const dbWith = (...errors: Error[]) => ({ applyErrors: () => errors.map((error, i) => ({ channel: `c1-${i}`, error })) }) as unknown as EngineDatabase;

describe('a querynode that cannot catch up', () => {
  it('is told apart by a channel whose next WAL record was truncated', () => {
    const err = unrecoverableApplyError(dbWith(new Error('throttled'), truncatedError('c1-1', 5n, 9n)));
    assert.ok(err, 'a truncated position is fatal');
    assert.match(err.message, /c1-1.*truncated.*restart/, 'the message names the channel, the cause and the remedy');
  });

  it('is not confused with errors a retry fixes', () => {
    assert.equal(unrecoverableApplyError(dbWith(new Error('throttled'), new NotFoundError('seg/1', 'object'))), undefined, 'other errors are retried');
    assert.equal(unrecoverableApplyError(dbWith()), undefined, 'no error, nothing fatal');
    assert.equal(unrecoverableApplyError(dbWith(new NotFoundError('seg/truncated-1', 'object'))), undefined, 'told by type, not by the word in a message');
  });
});
