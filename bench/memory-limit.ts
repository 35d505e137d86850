// Runs the measured Node processes under a memory limit when BENCH_MEMORY_LIMIT_MB asks for one (512 MB is Render's
// free plan): Node sizes V8's heap by the limit it sees, the young generation included, which is most of what a
// proxy's RSS grows by under load on a machine with much more memory. A Linux cgroup (v1 or v2), as root; where
// none can be made, the processes run without a limit and the report says so.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchConfig } from './config.js';

const NAME = `health-gate-bench-${process.pid}`;

export interface MemoryLimit {
  readonly megabytes: number;
  /** The command and arguments that run `command args…` inside the limit (same pid: the shell execs it). */
  wrap(command: string, args: readonly string[]): [string, string[]];
  /** Removes the cgroup once every process in it has exited. */
  remove(): void;
}

function createGroup(megabytes: number): string | undefined {
  const bytes = String(megabytes * 2 ** 20);
  const v1 = '/sys/fs/cgroup/memory';
  if (existsSync(path.join(v1, 'memory.limit_in_bytes'))) {
    const dir = path.join(v1, NAME);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'memory.limit_in_bytes'), bytes);
    return path.join(dir, 'tasks');
  }
  const v2 = '/sys/fs/cgroup';
  if (readFileSync(path.join(v2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory')) {
    writeFileSync(path.join(v2, 'cgroup.subtree_control'), '+memory');
    const dir = path.join(v2, NAME);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'memory.max'), bytes);
    return path.join(dir, 'cgroup.procs');
  }
  return undefined;
}

/** The limit of BENCH_MEMORY_LIMIT_MB (0: none), or undefined when no cgroup could be made here. */
export function setUpMemoryLimit(): MemoryLimit | undefined {
  const megabytes = benchConfig.memoryLimitMb;
  if (megabytes === 0 || process.platform !== 'linux') return undefined;
  let procs: string | undefined;
  try {
    procs = createGroup(megabytes);
  } catch {
    return undefined; // not root, or cgroups not writable here
  }
  if (!procs) return undefined;
  const members = procs;
  return {
    megabytes,
    wrap: (command, args) => ['sh', ['-c', 'echo $$ > "$0" && exec "$@"', members, command, ...args]],
    remove() {
      try {
        rmdirSync(path.dirname(members));
      } catch {
        // a process still in it: the kernel keeps the group until the next run's cleanup by hand
      }
    },
  };
}
