/**
 * Port: time, for the engine's waits and deadlines (poll intervals, retry backoff, timeouts, idle
 * seals). The engine reads the time and sleeps through a
 * Clock instead of importing node:timers, so the layering rules hold and a test can hand in a
 * clock that does not wait on real intervals. `systemClock` is the real one: it uses only the
 * language's global timers, so it lives here beside the port and needs no adapter.
 */

/** Wall-clock time and waiting. */
export interface Clock {
  /** Milliseconds since the epoch (as Date.now()). */
  now(): number;
  /** Resolves after `ms` milliseconds (0: on a later turn of the event loop). */
  sleep(ms: number): Promise<void>;
}

/** The real clock: Date.now() and setTimeout. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};
