/**
 * The error a bad MigransStack prop or CDK context value fails the synth with. Typed, with the prop and
 * the value received, so that callers (bin/app.ts, tests, wrappers) can tell which setting to fix
 * without parsing the message, and a bad value never reaches a deploy.
 */

/** A MigransStack prop (or its `-c` context value) that the stack cannot honour. */
export class StackPropsError extends Error {
  /** The prop or context key, e.g. `querynodeMemoryMiB`. */
  readonly prop: string;
  /** The value received, as given. */
  readonly value: unknown;

  constructor(prop: string, value: unknown, message: string) {
    super(message);
    this.name = 'StackPropsError';
    this.prop = prop;
    this.value = value;
  }
}
