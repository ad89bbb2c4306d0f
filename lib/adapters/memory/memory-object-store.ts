/** ObjectStore held in process memory, for tests and throwaway engines. */
import { NotFoundError } from '../../engine/errors.ts';
import type { ObjectStore } from '../../engine/ports/object-store.ts';
import { checkBytes, checkObjectDeletePrefix, checkObjectKey, checkObjectPrefix, checkRange } from '../key-rules.ts';
import { lowerBound, SortedKeys } from './sorted-keys.ts';

/** An ObjectStore in a Map. Bytes are copied in and out, as a real store would, so callers cannot alias them. */
export class MemoryObjectStore implements ObjectStore {
  private readonly objects = new Map<string, Uint8Array>();
  private readonly order = new SortedKeys();
  private readonly isLive = (key: string) => this.objects.has(key);

  async put(key: string, data: Uint8Array): Promise<void> {
    checkObjectKey(key);
    checkBytes(data, `data for object ${JSON.stringify(key)}`);
    if (!this.objects.has(key)) this.order.add(key);
    this.objects.set(key, data.slice());
  }

  async get(key: string): Promise<Uint8Array> {
    checkObjectKey(key);
    const data = this.objects.get(key);
    if (!data) throw new NotFoundError(key);
    return data.slice();
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    checkObjectKey(key);
    checkRange(key, offset, length);
    const data = this.objects.get(key);
    if (!data) throw new NotFoundError(key);
    return data.slice(offset, offset + length);
  }

  async exists(key: string): Promise<boolean> {
    checkObjectKey(key);
    return this.objects.has(key);
  }

  async list(prefix: string): Promise<string[]> {
    checkObjectPrefix(prefix);
    const keys = this.order.snapshot(this.isLive);
    const out: string[] = [];
    for (let i = lowerBound(keys, prefix); i < keys.length && keys[i].startsWith(prefix); i++) out.push(keys[i]);
    return out;
  }

  async delete(key: string): Promise<void> {
    checkObjectKey(key);
    if (this.objects.delete(key)) this.order.remove();
  }

  async deletePrefix(prefix: string): Promise<number> {
    checkObjectDeletePrefix(prefix);
    const keys = await this.list(prefix);
    for (const key of keys) this.objects.delete(key);
    this.order.remove(keys.length);
    return keys.length;
  }
}
