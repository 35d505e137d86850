// Runs the app command in a process group of its own and takes the whole group down when the supervisor
// goes away, even by SIGKILL: the IPC channel to the supervisor then closes, which nothing can prevent.
// Started by child-app.ts as `node child-guard.js <command>`; not meant to be run by hand.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export type GuardMessage =
  | { readonly type: 'spawned'; readonly pid: number }
  | { readonly type: 'spawn-failed'; readonly message: string }
  | { readonly type: 'exited'; readonly code: number | null; readonly signal: NodeJS.Signals | null };

const ORPHAN_KILL_DELAY_MS = 5_000;
const command = process.argv[2];

function tell(message: GuardMessage): void {
  if (process.connected) process.send?.(message);
}

if (!command || !process.send) {
  process.stderr.write('child-guard: started by the supervisor with an IPC channel and a command\n');
  process.exit(2);
}

const app = spawn(command, { shell: true, stdio: ['ignore', 'inherit', 'inherit'], detached: true });

function signalApp(signal: NodeJS.Signals): void {
  if (app.pid === undefined) return;
  try {
    process.kill(-app.pid, signal);
  } catch {
    // The group is already gone.
  }
}

app.once('spawn', () => tell({ type: 'spawned', pid: app.pid as number }));
app.once('error', (error) => {
  tell({ type: 'spawn-failed', message: error.message });
  process.exit(127);
});
app.once('exit', (code, signal) => {
  signalApp('SIGKILL'); // anything the app left behind in its group
  tell({ type: 'exited', code, signal });
  process.exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
  process.disconnect?.();
});

// The supervisor decides when the app stops; a terminal's Ctrl-C reaches the supervisor, which asks.
process.on('SIGTERM', () => signalApp('SIGTERM'));
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('message', (message: { type?: string }) => {
  if (message.type === 'kill') signalApp('SIGKILL');
});
process.on('disconnect', () => {
  if (app.exitCode !== null || app.signalCode !== null) return;
  signalApp('SIGTERM');
  setTimeout(() => signalApp('SIGKILL'), ORPHAN_KILL_DELAY_MS);
});
