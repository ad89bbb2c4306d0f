/** Small filesystem helpers shared by the local adapters. */
import * as fs from 'node:fs/promises';

/** fsyncs a directory so a rename or unlink in it survives power loss. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The errno code of a Node system error, or ''. */
export function errCode(err: unknown): string {
  return (err as { code?: unknown })?.code && typeof (err as { code: unknown }).code === 'string' ? (err as { code: string }).code : '';
}

/** The message of any thrown value. */
export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
