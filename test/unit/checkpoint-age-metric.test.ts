/**
 * The metric lines of the ingest function's sweep (lib/aws/ingest-role.ts): valid CloudWatch
 * embedded metric format — checkpoint ages by stream and channel, and the sweep's heartbeat — under
 * the names the stack's alarms read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHECKPOINT_AGE_METRIC } from '../../lib/aws/aws-env.ts';
import { checkpointAgeLines, sweepHeartbeatLine } from '../../lib/aws/ingest-role.ts';

describe('checkpoint-age metric', () => {
  it('publishes one EMF line per channel with its age in seconds, dimensioned by stream and channel', () => {
    const lines = checkpointAgeLines(
      'wal',
      [
        { channel: 'c7-0', unflushedRecords: 3, checkpointAgeSeconds: 95, sealed: true },
        { channel: 'c7-1', unflushedRecords: 0, checkpointAgeSeconds: 0, sealed: false },
      ],
      1_700_000_000_000,
    );
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0]);
    assert.deepEqual(first._aws, {
      Timestamp: 1_700_000_000_000,
      CloudWatchMetrics: [{ Namespace: 'Migrans', Dimensions: [['Stream', 'Channel']], Metrics: [{ Name: 'CheckpointAgeSeconds', Unit: 'Seconds' }] }],
    });
    assert.equal(first.Stream, 'wal');
    assert.equal(first.Channel, 'c7-0');
    assert.equal(first[CHECKPOINT_AGE_METRIC.name], 95);
    assert.equal(JSON.parse(lines[1]).CheckpointAgeSeconds, 0, 'a flushed channel reports 0, so its alarm series clears');
  });

  it('publishes a heartbeat per completed sweep, by stream', () => {
    const line = JSON.parse(sweepHeartbeatLine('wal', 5));
    assert.deepEqual(line._aws.CloudWatchMetrics, [{ Namespace: 'Migrans', Dimensions: [['Stream']], Metrics: [{ Name: 'IdleSweeps', Unit: 'Count' }] }]);
    assert.equal(line.Stream, 'wal');
    assert.equal(line.IdleSweeps, 1);
  });
});
