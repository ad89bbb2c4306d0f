/**
 * One optional, process-wide hook applied to every AWS SDK client the adapters and roles create (the
 * DynamoDB KV store, the Kinesis WAL and poller, S3, Lambda, Secrets Manager). It exists so a test or
 * script can attach middleware (the call counter in call-counter.ts) to all clients of a process
 * without threading clients through every constructor; with no hook set nothing changes.
 */
import type { MiddlewareStack } from '@smithy/types';

/** The part of an AWS SDK v3 client a hook may touch. */
export interface HookableAwsClient {
  /** The client's middleware stack (add or remove middleware here). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each client's stack has its own input/output types (a stack is invariant in them); one hook serves every client
  middlewareStack: MiddlewareStack<any, any>;
}

/** Called once with each client created while it is set. */
export type AwsClientHook = (client: HookableAwsClient) => void;

let current: AwsClientHook | undefined;

/** Sets the hook for clients created from now on; returns a function that restores the previous one. */
export function setAwsClientHook(hook: AwsClientHook | undefined): () => void {
  const previous = current;
  current = hook;
  return () => {
    current = previous;
  };
}

/** Applies the hook, if any, to a freshly created client and returns the client. */
export function hookAwsClient<T extends HookableAwsClient>(client: T): T {
  current?.(client);
  return client;
}
