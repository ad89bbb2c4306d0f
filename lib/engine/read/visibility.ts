/**
 * Visibility (tSafe): what a read may see. A channel's serviceable timestamp is the time of the
 * last record it applied, or now when it has applied everything acknowledged; a read at timestamp
 * T waits until every channel this process applies has passed T.
 */
import type { ChannelState } from '../channel-state.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import { ChannelStuckError, ConsistencyTimeoutError } from '../errors.ts';
import type { ChannelShare } from '../roles/collection-role.ts';
import type { RuntimeDeps } from '../collection/collection-state.ts';
import type { ConsistencyLevel } from '../schema/types.ts';
import { composeTs } from '../tso.ts';

/**
 * The timestamp a read at `level` waits for: now (Strong), now less the graceful time (Bounded),
 * the write's token (Session, Customized), nothing (Eventually).
 */
export function guaranteeTs(level: ConsistencyLevel, sessionToken: bigint | undefined, deps: Pick<RuntimeDeps, 'tso' | 'clock' | 'config'>): bigint {
  switch (level) {
    case 'Strong':
      return deps.tso.now();
    case 'Bounded':
      return composeTs(deps.clock.now() - deps.config.gracefulTimeMs, 0);
    case 'Session':
    case 'Customized':
      return sessionToken ?? 0n;
    default:
      return 0n;
  }
}

/** The tSafe of a collection's channels applied in this process. */
export class Visibility {
  constructor(
    private readonly s: CollectionState,
    private readonly share: ChannelShare,
  ) {}

  /** The channel's serviceable timestamp: everything at or below it is applied. */
  tSafe(ch: ChannelState): bigint {
    return ch.caughtUp() ? this.s.deps.tso.now() : ch.lastTs;
  }

  /** Waits until every channel applied here has applied everything up to `ts`, or throws a timeout error. */
  async waitForTs(ts: bigint, timeoutMs = this.s.config.consistencyTimeoutMs): Promise<void> {
    const { clock } = this.s.deps;
    const deadline = clock.now() + timeoutMs;
    for (const ch of this.s.channels) {
      if (!this.share.applies(ch.name)) continue; // visibility is the business of the process that applies it
      if (ch.unavailable) throw ch.unavailable;
      while (this.tSafe(ch) < ts) {
        const left = deadline - clock.now();
        if (left <= 0) {
          // A failing apply is retried in the background; the read reports it once it gives up.
          if (ch.error) throw new ChannelStuckError(this.s.info.name, ch.name, timeoutMs, ts, ch.lastTs, ch.applied, ch.error);
          throw new ConsistencyTimeoutError(this.s.info.name, ch.name, timeoutMs, ts, ch.lastTs);
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([ch.progress(), new Promise<void>((r) => (timer = setTimeout(r, Math.min(left, 50))))]);
        clearTimeout(timer);
      }
    }
  }
}
