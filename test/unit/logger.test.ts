/**
 * The logger port and its adapters: the level filter, bound fields merging into each line, errors
 * serialized with name, message, stack, typed fields and causes, JSON lines that parse, the pretty
 * form on one line, and MIGRANS_LOG_LEVEL / MIGRANS_LOG_FORMAT validated with clear messages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consoleLogger } from '../../lib/adapters/local/console-logger.ts';
import { MemoryLogger } from '../../lib/adapters/memory/memory-logger.ts';
import { ConfigError, resolveLogConfig } from '../../lib/config.ts';
import { MilvusError } from '../../lib/api/error-codes.ts';
import { CorruptDataError } from '../../lib/engine/errors.ts';

/** A console logger writing into an array of lines. */
function captured(options: { level?: 'debug' | 'info' | 'warn' | 'error'; format?: 'json' | 'pretty'; isTTY?: boolean }) {
  const lines: string[] = [];
  const logger = consoleLogger({ level: options.level, format: options.format, stream: { write: (t: string) => lines.push(t), isTTY: options.isTTY } });
  return { logger, lines };
}

describe('logger', () => {
  it('drops lines below its level and keeps the rest', () => {
    const { logger, lines } = captured({ level: 'warn', format: 'json' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).message),
      ['w', 'e'],
    );
    const memory = new MemoryLogger('info');
    memory.child({ collection: 'c' }).debug('hidden');
    assert.equal(memory.entries.length, 0, 'children keep the level');
  });

  it("merges bound fields into every line of a child, the line's own fields winning", () => {
    const logger = new MemoryLogger();
    const rt = logger.child({ collection: 'books', requestId: 'r1' });
    rt.child({ channel: 'c7-0' }).warn('retrying', { segment: 12, requestId: 'r2' });
    rt.info('plain');
    assert.deepEqual(
      logger.entries.map((e) => [e.level, e.message, e.fields]),
      [
        ['warn', 'retrying', { collection: 'books', requestId: 'r2', channel: 'c7-0', segment: 12 }],
        ['info', 'plain', { collection: 'books', requestId: 'r1' }],
      ],
    );
  });

  it('serializes an error field with its name, message, stack, typed fields and cause', () => {
    const logger = new MemoryLogger();
    const cause = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', errno: -5 });
    logger.error('open failed', { error: new Error('opening segment 3 failed', { cause }) });
    logger.error('damaged', { error: new CorruptDataError('segment 3 is damaged', { key: 'insert_log/1/3', what: 'column chunk' }) });
    logger.error('refused', { error: new MilvusError(1100, 'not supported') });
    const [first, damaged, second] = logger.entries.map((e) => e.fields.error as Record<string, any>);
    assert.equal(first.name, 'Error');
    assert.equal(first.message, 'opening segment 3 failed');
    assert.match(first.stack, /opening segment 3 failed/);
    assert.deepEqual({ name: first.cause.name, code: first.cause.code, errno: first.cause.errno }, { name: 'Error', code: 'EIO', errno: -5 });
    assert.deepEqual([damaged.name, damaged.key, damaged.what], ['CorruptDataError', 'insert_log/1/3', 'column chunk'], 'a typed error keeps its fields');
    assert.equal(second.code, 1100, 'a MilvusError keeps its code');
    assert.doesNotThrow(() => JSON.stringify(logger.entries), 'entries are plain JSON');
  });

  it('writes JSON lines that parse, with time, level, message and the fields (bigints as strings)', () => {
    const { logger, lines } = captured({ format: 'json' });
    logger.child({ collection: 'books' }).error('flush failed', { segment: 4, ts: 123n, error: new Error('disk gone') });
    assert.equal(lines.length, 1);
    assert.ok(lines[0].endsWith('\n') && !lines[0].slice(0, -1).includes('\n'), 'one line');
    const parsed = JSON.parse(lines[0]);
    assert.equal(parsed.level, 'error');
    assert.equal(parsed.message, 'flush failed');
    assert.equal(parsed.collection, 'books');
    assert.equal(parsed.segment, 4);
    assert.equal(parsed.ts, '123');
    assert.equal(parsed.error.message, 'disk gone');
    assert.ok(!Number.isNaN(Date.parse(parsed.time)));
  });

  it('writes the pretty form on one line, level and fields readable, and picks it on a terminal', () => {
    const { logger, lines } = captured({ isTTY: true });
    logger.child({ collection: 'my books' }).warn('checkpoint failed', { channel: 'c1-0', error: new MilvusError(65535, 'multi\nline') });
    assert.equal(lines.length, 1);
    const line = lines[0].slice(0, -1);
    assert.ok(!line.includes('\n'), `one line: ${line}`);
    assert.match(line, /^\S+Z WARN {2}checkpoint failed collection="my books" channel=c1-0 error="MilvusError: multi\\nline" code=65535$/);
    const piped = captured({});
    piped.logger.info('x');
    assert.doesNotThrow(() => JSON.parse(piped.lines[0]), 'JSON when the stream is not a terminal');
  });

  it('reads MIGRANS_LOG_LEVEL and MIGRANS_LOG_FORMAT and refuses other values naming them', () => {
    assert.deepEqual(resolveLogConfig({}), { level: 'info' });
    assert.deepEqual(resolveLogConfig({ MIGRANS_LOG_LEVEL: 'DEBUG', MIGRANS_LOG_FORMAT: 'pretty' }), { level: 'debug', format: 'pretty' });
    assert.throws(
      () => resolveLogConfig({ MIGRANS_LOG_LEVEL: 'verbose' }),
      (e: unknown) => e instanceof ConfigError && /MIGRANS_LOG_LEVEL "verbose".*debug, info, warn, error/.test(e.message),
    );
    assert.throws(
      () => resolveLogConfig({ MIGRANS_LOG_FORMAT: 'xml' }),
      (e: unknown) => e instanceof ConfigError && /MIGRANS_LOG_FORMAT "xml".*json or pretty/.test(e.message),
    );
  });
});
