/** Per-container state of a Lambda handler: opened on the first invocation, kept while the container is warm. */

/** Returns a getter that opens the value once; a failed open is retried on the next call. */
export function containerSingleton<T>(open: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    if (!value) {
      value = open();
      value.catch(() => (value = undefined));
    }
    return value;
  };
}
