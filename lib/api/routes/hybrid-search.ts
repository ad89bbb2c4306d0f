/**
 * `entities/hybrid_search` (alias `advanced_search`), built on the engine's plain search: every
 * sub-request runs as one search, the hit lists of each query vector are fused, and output fields
 * are fetched by primary key for the final rows only.
 *
 * Fusion as Milvus 2.5 (internal/proxy/reScorer.go):
 * - `rrf` (default): score = Σ 1 / (k + rank), rank from 1, `params.k` default 60, in (0, 16384);
 * - `weighted`: score = Σ weight_i · norm(distance_i), `params.weights` one per sub-request in [0, 1];
 *   with `params.norm_score` (default true) distances are normalized per metric: COSINE (1 + d) / 2,
 *   IP 0.5 + atan(d)/π, L2 1 − 2·atan(d)/π; without it, L2 distances are still turned into a
 *   larger-is-better score the same way and IP/COSINE are used as they are.
 * The row's `distance` is the fused score (descending). A sub-request without `limit` uses the
 * top-level limit + offset (Milvus requires it; this is friendlier). Per-sub-request search params
 * live under `params` (ef, radius, range_filter), as in Milvus.
 */
import { primaryField } from '../../engine/schema/primary-field.ts';
import { vectorFieldFor } from '../../engine/read/planner.ts';
import type { ReadOptions, Row, SearchRequest } from '../../engine/database.ts';
import { invalidParameter } from '../../engine/errors.ts';
import { ErrorCode, MilvusError } from '../error-codes.ts';
import type { PrimaryKey } from '../../engine/schema/types.ts';
import { BAD_JSON_PREFIX, StructReader, isJsonObject, missingRequired, unmarshalError } from '../bind.ts';
import { readOptions } from '../read-options.ts';
import { success } from '../response.ts';
import { createRowEncoder } from '../row-encoder.ts';
import type { HandlerContext, Route } from '../types.ts';

const MAX_WINDOW = 16384;
const DEFAULT_RRF_K = 60;

type Normalize = (distance: number) => number;

function normalizer(metric: string, normScore: boolean): Normalize {
  const toGreater: Normalize = (d) => 1 - (2 * Math.atan(d)) / Math.PI;
  if (!normScore) return metric === 'L2' ? toGreater : (d) => d;
  if (metric === 'COSINE') return (d) => (1 + d) * 0.5;
  if (metric === 'IP') return (d) => 0.5 + Math.atan(d) / Math.PI;
  return toGreater;
}

function numberParam(key: string, value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw invalidParameter(`search param ${key} should be a number, but got ${JSON.stringify(String(value))}`);
  }
  return n;
}

/** The sub-search's query vectors as float32 (their dimension is the engine planner's to check). */
function toVectors(data: unknown[], i: number): Float32Array[] {
  return data.map((vec, q) => {
    if (!Array.isArray(vec)) throw new MilvusError(ErrorCode.BadJson, `${BAD_JSON_PREFIX}, error: search[${i}] query vector ${q} is not an array of numbers: invalid parameter`);
    const out = new Float32Array(vec.length);
    for (let j = 0; j < vec.length; j++) {
      const x = vec[j];
      const f = typeof x === 'number' ? Math.fround(x) : NaN;
      if (f - f !== 0) {
        throw new MilvusError(ErrorCode.BadJson, `${BAD_JSON_PREFIX}, error: element ${j} of search[${i}] query vector ${q} is not a finite float32 number: invalid parameter`);
      }
      out[j] = f;
    }
    return out;
  });
}

interface Fuser {
  add(sub: number, rank: number, distance: number): number;
}

function makeFuser(rerank: StructReader | undefined, metrics: string[]): Fuser {
  const strategy = (rerank?.string('strategy') ?? 'rrf').toLowerCase();
  const params = rerank?.map('params') ?? {};
  if (strategy === 'rrf') {
    const k = params.k === undefined || params.k === null ? DEFAULT_RRF_K : numberParam('k', params.k);
    if (!(k > 0 && k < MAX_WINDOW)) throw invalidParameter(`The rank params k should be in range (0, ${MAX_WINDOW}), but got ${k}`);
    return { add: (_sub, rank) => 1 / (k + rank) };
  }
  if (strategy === 'weighted') {
    const weights = params.weights;
    if (!Array.isArray(weights) || weights.length !== metrics.length) {
      throw invalidParameter(
        `the length of weights param mismatch with ann search requests: invalid parameter[expected=${metrics.length}][actual=${Array.isArray(weights) ? weights.length : 0}]`,
      );
    }
    const w = weights.map((x, i) => {
      const n = numberParam(`weights[${i}]`, x);
      if (n < 0 || n > 1) throw invalidParameter(`rank param weight should be in range [0, 1], but got ${n}`);
      return n;
    });
    const normScore = params.norm_score === undefined || params.norm_score === null ? true : params.norm_score === true || params.norm_score === 'true';
    const norms = metrics.map((m) => normalizer(m, normScore));
    return { add: (sub, _rank, distance) => w[sub]! * norms[sub]!(distance) };
  }
  throw invalidParameter(`unsupported rerank strategy ${JSON.stringify(strategy)}; use "rrf" or "weighted"`);
}

function pkKey(id: PrimaryKey): string {
  return typeof id === 'bigint' ? `i${id}` : `s${id}`;
}

async function hybridSearch(ctx: HandlerContext): Promise<string> {
  const { db, dbName, req, int64AsString } = ctx;
  const name = req.string('collectionName', true);
  const subs = req.structArray('search', 'SubSearchReq', true)!;
  if (subs.length === 0) throw invalidParameter('search should contain at least one sub-request');
  const limit = req.int32('limit') ?? 100;
  const offset = req.int32('offset') ?? 0;
  if (limit <= 0 || limit > MAX_WINDOW) throw new MilvusError(ErrorCode.Unexpected, `topk [${limit}] is invalid, it should be in range [1, ${MAX_WINDOW}]`);
  if (offset < 0 || limit + offset > MAX_WINDOW) {
    throw new MilvusError(ErrorCode.Unexpected, `offset [${offset}] is invalid, (offset+limit) should be in range [1, ${MAX_WINDOW}], but got ${limit + offset}`);
  }
  if (req.string('groupingField')) throw invalidParameter('groupingField (grouping search) is not supported by Migrans yet; remove it');
  const options: ReadOptions = readOptions(req, []);
  const outputFields = options.outputFields!;

  const info = await db.describeCollection(dbName, name);
  const pk = primaryField(info.schema);
  const metrics: string[] = [];
  let nq = -1;
  const requests: SearchRequest[] = subs.map((sub, i) => {
    const raw = sub.obj.data; // case-sensitive, as Milvus reads `search[i].data`
    if (raw === undefined || raw === null) throw missingRequired('SubSearchReq', 'data');
    if (!Array.isArray(raw)) throw unmarshalError('SubSearchReq', 'data', raw, '[]interface {}');
    const field = vectorFieldFor(info.schema, sub.string('annsField'), `search[${i}] `);
    const vectors = toVectors(raw, i);
    if (nq >= 0 && vectors.length !== nq) throw invalidParameter(`nq of every search request should be equal, search[${i}] has ${vectors.length}, search[0] has ${nq}`);
    nq = vectors.length;
    if (nq === 0 || nq > MAX_WINDOW) throw invalidParameter(`nq [${nq}] is invalid, nq (number of search vector per search request) should be in range [1, ${MAX_WINDOW}]`);
    metrics.push(info.indexes.find((ix) => ix.fieldName === field.name)?.metricType ?? 'COSINE');
    const subLimit = sub.int32('limit') || limit + offset;
    if (subLimit <= 0 || subLimit > MAX_WINDOW) throw new MilvusError(ErrorCode.Unexpected, `topk [${subLimit}] is invalid, it should be in range [1, ${MAX_WINDOW}]`);
    const params = sub.map('params') ?? {};
    const request: SearchRequest = {
      ...options,
      outputFields: [],
      vectors,
      annsField: field.name,
      limit: subLimit,
      offset: sub.int32('offset') ?? 0,
      filter: sub.string('filter') ?? '',
      exprParams: sub.map('exprParams'),
    };
    if (params.ef !== undefined && params.ef !== null) request.ef = numberParam('ef', params.ef);
    if (params.radius !== undefined && params.radius !== null) request.radius = numberParam('radius', params.radius);
    if (params.range_filter !== undefined && params.range_filter !== null) request.rangeFilter = numberParam('range_filter', params.range_filter);
    return request;
  });
  const rerank = req.raw('rerank');
  if (rerank !== undefined && !isJsonObject(rerank)) throw unmarshalError('HybridSearchReq', 'rerank', rerank, 'map[string]interface {}');
  const fuser = makeFuser(req.struct('rerank', 'RerankReq'), metrics);

  const results = await Promise.all(requests.map((r) => db.search(dbName, name, r)));
  const fused: { id: PrimaryKey; score: number }[][] = [];
  for (let q = 0; q < nq; q++) {
    const scores = new Map<string, { id: PrimaryKey; score: number }>();
    results.forEach((perQuery, sub) => {
      perQuery[q]!.forEach((hit, rank) => {
        const id = hit[pk.name] as PrimaryKey;
        const key = pkKey(id);
        const entry = scores.get(key) ?? { id, score: 0 };
        entry.score += fuser.add(sub, rank + 1, hit.distance as number);
        scores.set(key, entry);
      });
    });
    fused.push([...scores.values()].sort((a, b) => b.score - a.score).slice(offset, offset + limit));
  }

  // Late materialization: output fields for the final rows only.
  const wanted = fused.flat();
  const byKey = new Map<string, Row>();
  if (outputFields.length > 0 && wanted.length > 0) {
    const rows = await db.get(
      dbName,
      name,
      wanted.map((w) => w.id),
      { ...options, outputFields },
    );
    for (const row of rows) byKey.set(pkKey(row[pk.name] as PrimaryKey), row);
  }
  const encode = createRowEncoder(info.schema, int64AsString, [pk.name, 'distance']);
  const parts: string[] = [];
  const topks: number[] = [];
  for (const hits of fused) {
    topks.push(hits.length);
    for (const h of hits) parts.push(encode({ ...byKey.get(pkKey(h.id)), [pk.name]: h.id, distance: h.score }));
  }
  if (parts.length === 0) return success({ cost: true, data: '[]' });
  return success({ cost: true, data: `[${parts.join(',')}]`, topks });
}

/** The hybrid search route (also served as `advanced_search`). */
export const hybridSearchRoute: Route = { structName: 'HybridSearchReq', handle: hybridSearch };
