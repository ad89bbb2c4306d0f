/** A small async readers-writer lock (writers are not starved: a waiting writer blocks new readers). */
export class RwLock {
  private readers = 0;
  private writer = false;
  private readonly queue: { write: boolean; resolve: () => void }[] = [];

  /** Runs `fn` while holding the lock shared. */
  async read<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(false);
    try {
      return await fn();
    } finally {
      this.release(false);
    }
  }

  /** Runs `fn` while holding the lock exclusively. */
  async write<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(true);
    try {
      return await fn();
    } finally {
      this.release(true);
    }
  }

  private acquire(write: boolean): Promise<void> {
    if (this.queue.length === 0 && !this.writer && (!write || this.readers === 0)) {
      if (write) this.writer = true;
      else this.readers++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push({ write, resolve }));
  }

  private release(write: boolean): void {
    if (write) this.writer = false;
    else this.readers--;
    while (this.queue.length > 0 && !this.writer) {
      const next = this.queue[0];
      if (next.write) {
        if (this.readers > 0) break;
        this.writer = true;
      } else this.readers++;
      this.queue.shift();
      next.resolve();
    }
  }
}
