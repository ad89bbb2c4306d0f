/**
 * The apply loop of the channels a process applies (the datanode's role): reads each channel's WAL
 * from its position in order and hands every record to the record applier under the collection's
 * write lock. One loop per channel at a time; an append that lands while it winds down restarts it.
 * A record whose apply fails is retried with backoff (reads that need it fail fast with the error
 * meanwhile); a damaged WAL stops the channel until a repair.
 */
import type { ChannelState } from '../channel-state.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import { decodeWalRecord } from '../codec/wal-record-codec.ts';
import { ChannelUnavailableError, WalCorruptError } from '../errors.ts';
import type { ChannelShare } from '../roles/collection-role.ts';
import type { RecordApplier } from './record-applier.ts';

const READ_BATCH = 256;

/** Runs the apply loops of a collection's channels applied here. */
export class ChannelPump {
  constructor(
    private readonly s: CollectionState,
    private readonly share: ChannelShare,
    private readonly applier: RecordApplier,
  ) {}

  /** Starts the channel's loop, or tells the running one to read again. */
  kick(ch: ChannelState): void {
    if (this.s.closed || !this.share.applies(ch.name) || ch.unavailable) return;
    if (ch.pumping) {
      ch.pumpAgain = true;
      return;
    }
    ch.pumpAgain = false;
    ch.pumping = this.pump(ch).finally(() => {
      ch.pumping = null;
      if (ch.pumpAgain) this.kick(ch); // an append landed while the loop was winding down
    });
  }

  /** Resolves once the channel has applied everything in its WAL, or has hit an error (which reads then report). */
  async caughtUpOrFailed(ch: ChannelState): Promise<void> {
    while (!ch.caughtUp() && !ch.error && ch.pumping) await ch.progress();
  }

  /**
   * Learns how far other processes have appended to the channels applied here, and applies up to
   * there; true when a tail moved. With `readSince` (clock ms), a channel whose tail was read after
   * that instant already knows every append acknowledged by then, and is not read again.
   */
  async followTails(readSince?: number): Promise<boolean> {
    const moved = await Promise.all(
      this.s.channels
        .filter((ch) => this.share.applies(ch.name) && (readSince === undefined || ch.tailReadAt <= readSince))
        .map(async (ch) => {
          const asked = this.s.deps.clock.now();
          const walTail = await this.s.deps.wal.tail(ch.name);
          if (asked > ch.tailReadAt) ch.tailReadAt = asked;
          const tail = ch.applyLimit !== undefined && ch.applyLimit < walTail ? ch.applyLimit : walTail;
          if (tail <= ch.knownTail) return false;
          ch.knownTail = tail;
          this.kick(ch);
          return true;
        }),
    );
    return moved.includes(true);
  }

  private async pump(ch: ChannelState): Promise<void> {
    let failures = 0;
    while (!this.s.closed) {
      try {
        const room = ch.applyLimit === undefined ? READ_BATCH : Math.min(READ_BATCH, Number(ch.applyLimit - ch.applied));
        const records = room > 0 ? await this.s.deps.wal.read(ch.name, ch.applied, room) : [];
        if (records.length === 0) {
          if (ch.pumpAgain) {
            ch.pumpAgain = false;
            continue;
          }
          break;
        }
        for (const r of records) {
          if (this.s.closed) break;
          const body = decodeWalRecord(r.data, this.s.info.schema);
          await this.s.lock.write(() => this.applier.apply(ch, r.position, body));
          ch.error = undefined;
          failures = 0;
          if (r.position + 1n > ch.knownTail) ch.knownTail = r.position + 1n;
        }
        ch.notify();
      } catch (err) {
        if (this.s.closed) break;
        if (err instanceof WalCorruptError) {
          this.makeUnavailable(ch, err); // damage does not heal by retrying
          break;
        }
        ch.error = err as Error;
        failures++;
        if (failures === 1 || failures % 20 === 0) {
          this.s.log.warn(`channel ${ch.name} failed to apply the record at position ${ch.applied} (attempt ${failures}; retrying)`, { channel: ch.name, error: err });
        }
        ch.notify();
        await this.s.deps.clock.sleep(Math.min(5000, 25 * 2 ** Math.min(failures, 8)));
      }
    }
    ch.notify();
  }

  /** Stops a channel whose WAL turned out damaged while applying it: writes to it and reads waiting on it fail with `cause` until a restart after repair. */
  private makeUnavailable(ch: ChannelState, cause: Error): void {
    ch.unavailable = new ChannelUnavailableError(
      ch.name,
      `collection ${this.s.info.name} is unavailable: channel ${ch.name} cannot be applied, so writes to it are refused (nothing was written) and reads that wait for it fail; ${cause.message}`,
      { cause },
    );
    ch.error = ch.unavailable;
    this.s.log.error(ch.unavailable.message, { channel: ch.name, error: ch.unavailable.cause });
    ch.notify();
  }
}
