/**
 * Migrans through its REST API: `migrans serve` as its own process (as users run it), driven over
 * loopback with keep-alive connections (the requests themselves: rest-system.ts).
 */
import { startServerProcess } from '../../test/support/server-process.ts';
import { procMemory } from '../metrics.ts';
import { BENCH_ENGINE_ENV } from './migrans-common.ts';
import { restSystem, stopChild, type RestServer } from './rest-system.ts';
import type { BenchSystem } from './types.ts';

/** Starts `migrans serve --port 0` with the bench's engine settings and resolves once it listens. */
async function startServer(dataDir: string): Promise<RestServer> {
  // MIGRANS_BENCH_SERVER_NODE_ARGS (set by bench/profile.ts --server-prof) adds node flags such as --cpu-prof.
  const nodeArgs = (process.env.MIGRANS_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const s = await startServerProcess(dataDir, BENCH_ENGINE_ENV, { nodeArgs, timeoutMs: 60_000 });
  return {
    url: s.url,
    pid: s.child.pid!,
    output: s.output,
    exitStatus: () => s.child.exitCode ?? s.child.signalCode,
    // SIGTERM (a --cpu-prof server writes its profile then); SIGKILL if it has not exited after 30 s.
    stop: () => stopChild(s.child, 30_000),
  };
}

/** `migrans-http` (and `-bf16`): the embedded server over REST. */
export function migransHttp(quantization: 'f32' | 'bf16' = 'f32'): BenchSystem {
  return restSystem({
    id: quantization === 'f32' ? 'migrans-http' : `migrans-http-${quantization}`,
    label: `Migrans ${quantization} via REST (embedded server)`,
    quantization,
    start: startServer,
    memory(server) {
      const mem = procMemory(server.pid);
      return { peakRssMiB: mem?.peakRssMiB, note: `peak RSS of the server process after indexing (current ${mem?.rssMiB.toFixed(0)} MiB)` };
    },
    reopens: true,
    compacts: true,
  });
}
