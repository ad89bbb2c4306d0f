/**
 * Who may talk to the embedded server. Token authentication: Milvus sends `Authorization: Bearer
 * <user>:<password>` (or `Basic base64`); Migrans has one shared token, so the credential (whatever its
 * form) must equal it. The comparison is constant-time over SHA-256 digests, so neither content nor
 * length leaks through timing. Without a token the server trusts whoever can reach its loopback
 * address, so a request must also be addressed to a loopback name (`isLoopbackHostHeader`: a web page
 * that rebinds its own DNS name to 127.0.0.1 still sends that name), and browser pages are told apart
 * by their `Origin`, which node-server.ts checks against the configured CORS origins.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isLoopbackHost } from '../config.ts';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Extracts the credential from an Authorization header (`Bearer x` or `Basic base64(x)`). */
export function credentialOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^\s*(\S+)\s+(.*?)\s*$/.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'bearer') return m[2]!;
  if (scheme === 'basic') return Buffer.from(m[2]!, 'base64').toString('utf8');
  return undefined;
}

/** True when the Authorization header carries `token` (constant-time). */
export function isAuthorized(header: string | undefined, token: string): boolean {
  const credential = credentialOf(header);
  // Compare even when absent, so a missing header costs the same as a wrong one.
  return timingSafeEqual(digest(credential ?? ''), digest(token)) && credential !== undefined;
}

/** True when a Host header names a loopback address: `127.0.0.1[:port]`, `localhost[:port]`, `[::1][:port]`. */
export function isLoopbackHostHeader(header: string): boolean {
  const m = /^(\[[^\]]*\]|[^:[\]]+)(?::\d{1,5})?$/.exec(header.trim());
  return m !== null && isLoopbackHost(m[1]!);
}
