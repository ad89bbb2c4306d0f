/**
 * Progress output: cli-progress bars on a terminal, one line per phase otherwise (CI, tests, pipes).
 */
import cliProgress from 'cli-progress';

/** A running phase. */
export interface Phase {
  tick(n?: number): void;
  set(value: number): void;
  done(summary?: string): void;
}

/** Logs phases to stderr, with a bar when stderr is a terminal. */
export class Progress {
  readonly #bars: boolean;
  readonly #quiet: boolean;
  readonly #t0 = performance.now();

  constructor(options: { bars?: boolean; quiet?: boolean } = {}) {
    this.#quiet = options.quiet ?? false;
    this.#bars = !this.#quiet && (options.bars ?? Boolean(process.stderr.isTTY));
  }

  /** Elapsed seconds since the run started, as `[mm:ss]`. */
  stamp(): string {
    const s = Math.round((performance.now() - this.#t0) / 1000);
    return `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}]`;
  }

  log(message: string): void {
    if (!this.#quiet) process.stderr.write(`${this.stamp()} ${message}\n`);
  }

  /** Starts a phase of `total` steps. */
  phase(name: string, total: number): Phase {
    const t0 = performance.now();
    if (!this.#bars) {
      let value = 0;
      return {
        tick: (n = 1) => void (value += n),
        set: (v) => void (value = v),
        done: (summary) => this.log(`${name}: ${summary ?? `${value}/${total}`} (${((performance.now() - t0) / 1000).toFixed(1)} s)`),
      };
    }
    const bar = new cliProgress.SingleBar(
      {
        format: `${this.stamp()} {name} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} | ETA {eta_formatted}`,
        barsize: 30,
        hideCursor: true,
        clearOnComplete: true,
        stream: process.stderr,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(1, total), 0, { name: name.padEnd(34).slice(0, 34) });
    let value = 0;
    return {
      tick: (n = 1) => {
        value += n;
        bar.update(value);
      },
      set: (v) => {
        value = v;
        bar.update(v);
      },
      done: (summary) => {
        bar.stop();
        this.log(`${name}: ${summary ?? `${value}/${total}`} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      },
    };
  }
}
