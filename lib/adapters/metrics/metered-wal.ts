/**
 * A Wal that counts what goes through it: record bytes appended and read, and tail reads (each a
 * consistent read of the channel head on AWS). Wraps any adapter, so the WAL read amplification of a
 * role (bytes read ÷ bytes written across the fleet) shows in its metrics.
 */
import type { Metrics } from '../../engine/ports/metrics.ts';
import type { Wal, WalPosition, WalRecord } from '../../engine/ports/wal.ts';

/** `wal`, counted into `metrics`. */
export function meteredWal(wal: Wal, metrics: Metrics): Wal {
  const written = metrics.counter('migrans_wal_bytes_written_total', 'WAL record bytes appended by this process');
  const read = metrics.counter('migrans_wal_bytes_read_total', 'WAL record bytes read by this process');
  const tails = metrics.counter('migrans_wal_tail_reads_total', 'Reads of a WAL channel tail by this process');
  return {
    async append(channel: string, records: Uint8Array[]): Promise<WalPosition> {
      const position = await wal.append(channel, records);
      written.inc(
        {},
        records.reduce((n, r) => n + r.byteLength, 0),
      );
      return position;
    },
    async read(channel: string, from: WalPosition, limit: number): Promise<WalRecord[]> {
      const records = await wal.read(channel, from, limit);
      read.inc(
        {},
        records.reduce((n, r) => n + r.data.byteLength, 0),
      );
      return records;
    },
    tail(channel: string): Promise<WalPosition> {
      tails.inc();
      return wal.tail(channel);
    },
    truncate: (channel, before) => wal.truncate(channel, before),
    dropChannel: (channel) => wal.dropChannel(channel),
    close: () => wal.close(),
  };
}
