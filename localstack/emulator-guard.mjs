#!/usr/bin/env node
/**
 * Runs one emulator command and takes its whole process group down when the launching process goes
 * away, however it goes (even SIGKILL): the launcher holds our stdin open, so EOF on stdin means it
 * died. Plain JavaScript so it starts in ~40 ms without tsx.
 *
 * Usage: node emulator-guard.mjs <command> [args...]   (spawned detached: we lead a process group)
 */
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('emulator-guard: no command given; usage: emulator-guard.mjs <command> [args...]\n');
  process.exit(2);
}

/** Kills every process of our group (the emulator and anything it forked), this one last. */
function killGroup(signal) {
  try {
    process.kill(-process.pid, signal);
  } catch {
    process.exit(1);
  }
}

const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
child.on('error', (err) => {
  process.stderr.write(`emulator-guard: cannot start ${command}: ${err.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));

process.stdin.on('end', () => killGroup('SIGKILL'));
process.stdin.on('error', () => killGroup('SIGKILL'));
process.stdin.resume();
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => killGroup('SIGKILL'));
