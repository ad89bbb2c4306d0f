/** The bytes of the files under a directory (a process's local data, for its disk gauge); 0 when it does not exist. */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** Sums the sizes of the regular files under `dir`, recursively. */
export async function directoryBytes(dir: string): Promise<number> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await directoryBytes(p);
    else if (e.isFile())
      total += await fs.stat(p).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}
