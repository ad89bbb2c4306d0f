/**
 * An opt-in counter of AWS SDK calls, for measuring what a workload costs (scripts/count-aws-calls.ts,
 * test/integration/aws-call-counts.test.ts): middleware attached to SDK v3 clients that counts, per
 * service and operation, logical calls and HTTP attempts with their wire bytes, the record bytes
 * Kinesis bills and reads (PutRecord(s), GetRecords) and the capacity units DynamoDB reports. It is
 * attached only where a caller asks (directly, or to every client through client-hook.ts); production
 * code never loads it.
 */
import type { DeserializeHandlerArguments, DeserializeHandlerOutput, HandlerExecutionContext, InitializeHandlerArguments, InitializeHandlerOutput } from '@smithy/types';
import type { AwsClientHook, HookableAwsClient } from './client-hook.ts';

/** What was counted for one operation of one service. */
export interface CallStats {
  /** Logical calls (one per `client.send`, however often it was retried). */
  calls: number;
  /** HTTP requests sent (retries included): what AWS bills for most services. */
  attempts: number;
  /** Request body bytes on the wire, over all attempts. */
  requestBytes: number;
  /** Response body bytes on the wire (from Content-Length where the server sent it). */
  responseBytes: number;
  /** Kinesis records put (PutRecord, PutRecords entries). */
  recordsPut: number;
  /** Bytes of the records put (data plus partition key, as Kinesis sizes a record). */
  recordBytesPut: number;
  /** Kinesis PUT payload units: each record rounded up to 25 KB. */
  putPayloadUnits: number;
  /** Kinesis records returned by GetRecords. */
  recordsRead: number;
  /** Data bytes of the records GetRecords returned. */
  recordBytesRead: number;
  /** DynamoDB read capacity units consumed, as DynamoDB reported them (ReturnConsumedCapacity TOTAL). */
  readUnits: number;
  /** DynamoDB write capacity units consumed, as DynamoDB reported them. */
  writeUnits: number;
  /**
   * Of readUnits + writeUnits, those estimated rather than reported: DynamoDB Local reports no
   * capacity for PartiQL batches, so each statement counts as its parameters' bytes in 1 KB units
   * (4 KB for a SELECT), at least one.
   */
  estimatedUnits: number;
}

/** Counts keyed `Service.Operation` (e.g. `DynamoDB.BatchWriteItem`, `Kinesis.PutRecords`). */
export type CallCounts = Record<string, CallStats>;

/** The Kinesis PUT payload unit (25 KB). */
export const KINESIS_PUT_PAYLOAD_UNIT_BYTES = 25 * 1024;

/** DynamoDB operations that read (their consumed capacity is read units); PartiQL ones read when every statement is a SELECT; the rest write. */
const DYNAMODB_READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

/** DynamoDB operations that accept ReturnConsumedCapacity. */
const DYNAMODB_CAPACITY_OPS = new Set([
  'GetItem',
  'BatchGetItem',
  'Query',
  'Scan',
  'TransactGetItems',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
]);

/** Whether a DynamoDB call reads (its capacity counts as read units). */
function dynamodbReads(op: string, input: Record<string, unknown>): boolean {
  if (DYNAMODB_READS.has(op)) return true;
  if (!op.includes('Statement') && op !== 'ExecuteTransaction') return false;
  const statements = (op === 'ExecuteStatement' ? [input] : (input.Statements ?? input.TransactStatements ?? [])) as { Statement?: unknown }[];
  return statements.every((st) => /^\s*select\b/i.test(String(st.Statement ?? '')));
}

/** An empty CallStats. */
export function emptyStats(): CallStats {
  return {
    calls: 0,
    attempts: 0,
    requestBytes: 0,
    responseBytes: 0,
    recordsPut: 0,
    recordBytesPut: 0,
    putPayloadUnits: 0,
    recordsRead: 0,
    recordBytesRead: 0,
    readUnits: 0,
    writeUnits: 0,
    estimatedUnits: 0,
  };
}

/** Options of a counter. */
export interface CallCounterOptions {
  /**
   * Ask DynamoDB for the capacity each call consumed (sets ReturnConsumedCapacity TOTAL on calls that
   * did not set it; default true). It only adds a field to the answers, which the adapters ignore.
   */
  dynamodbCapacity?: boolean;
}

/** Counts the calls of every client attached to it. */
export class AwsCallCounter {
  private readonly stats = new Map<string, CallStats>();
  private readonly attached = new WeakSet<object>();
  private readonly capacity: boolean;

  constructor(options: CallCounterOptions = {}) {
    this.capacity = options.dynamodbCapacity ?? true;
  }

  /** Adds the counting middleware to a client (a second attach of the same client is a no-op). */
  attach(client: HookableAwsClient): void {
    if (this.attached.has(client)) return;
    this.attached.add(client);
    client.middlewareStack.add(
      (next: (a: InitializeHandlerArguments<object>) => Promise<InitializeHandlerOutput<object>>, context: HandlerExecutionContext) => this.initialize(next, context),
      {
        step: 'initialize',
        priority: 'high',
        name: 'migransCallCounter',
      },
    );
    client.middlewareStack.add(
      (next: (a: DeserializeHandlerArguments<object>) => Promise<DeserializeHandlerOutput<object>>, context: HandlerExecutionContext) => this.deserialize(next, context),
      {
        step: 'deserialize',
        priority: 'low',
        name: 'migransCallCounterWire',
      },
    );
  }

  /** A client hook (client-hook.ts) that attaches this counter to every client created while it is set. */
  hook(): AwsClientHook {
    return (client) => this.attach(client);
  }

  /** A copy of the counts so far. */
  snapshot(): CallCounts {
    const out: CallCounts = {};
    for (const [key, s] of [...this.stats].sort(([a], [b]) => a.localeCompare(b))) out[key] = { ...s };
    return out;
  }

  /** Forgets every count. */
  reset(): void {
    this.stats.clear();
  }

  private entry(context: HandlerExecutionContext): CallStats {
    const key = `${(context.clientName ?? 'Unknown').replace(/Client$/, '')}.${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`;
    let s = this.stats.get(key);
    if (!s) this.stats.set(key, (s = emptyStats()));
    return s;
  }

  private initialize(next: (a: InitializeHandlerArguments<object>) => Promise<InitializeHandlerOutput<object>>, context: HandlerExecutionContext) {
    return async (args: InitializeHandlerArguments<object>): Promise<InitializeHandlerOutput<object>> => {
      const s = this.entry(context);
      const service = (context.clientName ?? '').replace(/Client$/, '');
      const op = (context.commandName ?? '').replace(/Command$/, '');
      s.calls++;
      let input = args.input as Record<string, unknown>;
      if (service === 'Kinesis') countPut(s, op, input);
      if (service === 'DynamoDB' && this.capacity && DYNAMODB_CAPACITY_OPS.has(op) && input.ReturnConsumedCapacity === undefined) {
        input = { ...input, ReturnConsumedCapacity: 'TOTAL' };
      }
      const result = await next({ ...args, input });
      const output = result.output as Record<string, unknown>;
      if (service === 'Kinesis' && op === 'GetRecords') {
        for (const r of (output.Records as { Data?: Uint8Array }[] | undefined) ?? []) {
          s.recordsRead++;
          s.recordBytesRead += r.Data?.byteLength ?? 0;
        }
      }
      if (service === 'DynamoDB') {
        let units = consumedUnits(output.ConsumedCapacity);
        if (output.ConsumedCapacity === undefined && this.capacity && op.includes('Statement')) {
          units = estimatedStatementUnits(op, input);
          s.estimatedUnits += units;
        }
        if (dynamodbReads(op, input)) s.readUnits += units;
        else s.writeUnits += units;
      }
      return result;
    };
  }

  private deserialize(next: (a: DeserializeHandlerArguments<object>) => Promise<DeserializeHandlerOutput<object>>, context: HandlerExecutionContext) {
    return async (args: DeserializeHandlerArguments<object>): Promise<DeserializeHandlerOutput<object>> => {
      const s = this.entry(context);
      s.attempts++;
      s.requestBytes += bodyLength(args.request as { body?: unknown; headers?: Record<string, string> });
      const result = await next(args);
      const headers = (result.response as { headers?: Record<string, string> } | undefined)?.headers ?? {};
      const length = Number(headers['content-length'] ?? headers['Content-Length']);
      if (Number.isFinite(length)) s.responseBytes += length;
      return result;
    };
  }
}

/** Adds a Kinesis put's records to the stats. */
function countPut(s: CallStats, op: string, input: Record<string, unknown>): void {
  const records =
    op === 'PutRecord'
      ? [input as { Data?: Uint8Array; PartitionKey?: string }]
      : op === 'PutRecords'
        ? ((input.Records as { Data?: Uint8Array; PartitionKey?: string }[]) ?? [])
        : [];
  for (const r of records) {
    const bytes = (r.Data?.byteLength ?? 0) + Buffer.byteLength(r.PartitionKey ?? '');
    s.recordsPut++;
    s.recordBytesPut += bytes;
    s.putPayloadUnits += Math.max(1, Math.ceil(bytes / KINESIS_PUT_PAYLOAD_UNIT_BYTES));
  }
}

/** Capacity units of a ConsumedCapacity field (one object, or one per table for batches and transactions). */
function consumedUnits(consumed: unknown): number {
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return list.reduce((sum: number, c: { CapacityUnits?: number }) => sum + (c.CapacityUnits ?? 0), 0);
}

/** Capacity units of PartiQL statements estimated from their parameters (see CallStats.estimatedUnits). */
function estimatedStatementUnits(op: string, input: Record<string, unknown>): number {
  const statements = (op === 'ExecuteStatement' ? [input] : (input.Statements ?? [])) as { Statement?: unknown; Parameters?: unknown[] }[];
  let units = 0;
  for (const st of statements) {
    const read = /^\s*select\b/i.test(String(st.Statement ?? ''));
    const bytes = (st.Parameters ?? []).reduce((sum: number, v) => sum + attributeBytes(v), 0);
    units += Math.max(1, Math.ceil(bytes / (read ? 4096 : 1024)));
  }
  return units;
}

/** The stored size of a DynamoDB attribute value (binary and string bytes, number digits, nested values). */
function attributeBytes(value: unknown): number {
  if (!value || typeof value !== 'object') return 0;
  const v = value as { B?: Uint8Array; S?: string; N?: string; M?: Record<string, unknown>; L?: unknown[] };
  if (v.B) return v.B.byteLength;
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return v.N.length;
  if (v.M) return Object.entries(v.M).reduce((sum, [k, x]) => sum + Buffer.byteLength(k) + attributeBytes(x), 0);
  if (v.L) return v.L.reduce((sum: number, x) => sum + attributeBytes(x), 0);
  return 1;
}

/** The byte length of a request body (a string, bytes, or a stream with a Content-Length header). */
function bodyLength(request: { body?: unknown; headers?: Record<string, string> }): number {
  const body = request.body;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  const length = Number(request.headers?.['content-length'] ?? request.headers?.['Content-Length']);
  return Number.isFinite(length) ? length : 0;
}

/** `after - before`, per key (keys with no new call are left out). */
export function countsSince(after: CallCounts, before: CallCounts): CallCounts {
  const out: CallCounts = {};
  for (const [key, a] of Object.entries(after)) {
    const b = before[key] ?? emptyStats();
    const d = emptyStats();
    for (const f of Object.keys(d) as (keyof CallStats)[]) d[f] = a[f] - b[f];
    if (d.calls > 0 || d.attempts > 0) out[key] = d;
  }
  return out;
}

/** The sum of one field over the keys of one service (`Kinesis`) or one operation (`Kinesis.PutRecords`). */
export function totalOf(counts: CallCounts, prefix: string, field: keyof CallStats): number {
  let sum = 0;
  for (const [key, s] of Object.entries(counts)) if (key === prefix || key.startsWith(`${prefix}.`)) sum += s[field];
  return sum;
}
