/**
 * Token authentication. Milvus sends `Authorization: Bearer <user>:<password>` (or `Basic base64`);
 * Migrans has one shared token, so the credential (whatever its form) must equal it. The comparison
 * is constant-time over SHA-256 digests, so neither content nor length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

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
