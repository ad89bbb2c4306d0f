/**
 * A ShardClient over HTTP: posts shard-protocol messages to a querynode's internal route with the
 * querynode token. No answer, a timeout (10 s: a rerun still fits API Gateway's 29 s) or HTTP 409 (the address is not
 * the node the view named) is ShardUnavailableError, so the read drops the node and reruns; an
 * error answer is rebuilt as the engine error the node raised.
 */
import { ShardUnavailableError, type ShardClient } from '../../engine/ports/shard-client.ts';
import {
  decodeIndexes,
  decodeQueryResponse,
  decodeRows,
  decodeSearchResponse,
  decodeShardError,
  decodeStats,
  encodeShardMessage,
  type ShardRequest,
} from '../../engine/read/shard-protocol.ts';

/** The querynode route that serves shard requests. */
export const SHARD_ROUTE = '/internal/shard';
/**
 * Well inside API Gateway's 29 s: a stuck node fails its call in 10 s, and the read reruns on the
 * other nodes (which then serve its share) with time to answer before the gateway gives up.
 */
const DEFAULT_TIMEOUT_MS = 10_000;

/** A shard client for the querynode `id` at `url`. `headers` go with every request (a request id). */
export function httpShardClient(id: string, url: string, token: string, options: { timeoutMs?: number; headers?: Record<string, string> } = {}): ShardClient {
  const post = async (message: ShardRequest): Promise<string> => {
    let res: Response;
    let text: string;
    try {
      res = await fetch(url + SHARD_ROUTE, {
        method: 'POST',
        headers: { ...options.headers, 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: encodeShardMessage(message),
        signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      text = await res.text();
    } catch (err) {
      throw new ShardUnavailableError(id, (err as Error).message);
    }
    if (res.status !== 200) throw new ShardUnavailableError(id, `HTTP ${res.status}: ${text.slice(0, 200)}`);
    const error = decodeShardError(text);
    if (error) throw error;
    return text;
  };
  return {
    id,
    search: async (r) => decodeSearchResponse(await post(r)),
    query: async (r) => decodeQueryResponse(await post(r)),
    fetch: async (r) => decodeRows(await post(r)),
    stats: async (r) => decodeStats(await post(r)),
    indexes: async (r) => decodeIndexes(await post(r)),
  };
}
