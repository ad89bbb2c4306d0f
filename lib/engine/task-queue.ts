/** A queue that runs async tasks one at a time, in order: DDL, index builds and Lambda invocations serialize through it. */

/** Runs async tasks one at a time, in order. */
export class TaskQueue {
  private tail: Promise<unknown> = Promise.resolve();
  /** Queues a task; the returned promise settles with it. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const p = this.tail.then(task, task);
    this.tail = p.catch(() => undefined);
    return p;
  }
}
