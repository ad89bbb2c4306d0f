/** Runs `migrans serve` as a child process, the way a user does, for crash and end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A running server: its base URL and the child process. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the server printed so far. */
  output(): string;
  /** Sends SIGKILL and waits for the process to exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful) and wait. */
  stop(): Promise<void>;
}

/**
 * Starts the server on a free port with the given data dir and extra environment; `nodeArgs` go to
 * node before the script (e.g. `--cpu-prof`), `timeoutMs` bounds the wait for it to listen.
 */
export async function startServerProcess(dataDir: string, env: Record<string, string> = {}, options: { nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'bin/migrans.ts', 'serve', '--port', '0', '--data-dir', dataDir], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs / 1000} s; output:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with code ${code} before listening; output:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** POSTs a REST v2 request and returns the parsed envelope. */
export async function call(url: string, route: string, body: unknown): Promise<{ code: number; message?: string; data?: any; [k: string]: unknown }> {
  const res = await fetch(`${url}/v2/vectordb/${route}`, { method: 'POST', body: JSON.stringify(body) });
  return (await res.json()) as { code: number; data?: unknown };
}
