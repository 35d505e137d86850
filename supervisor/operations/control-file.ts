// `health-gate reload` finds the supervisor that serves a port on this machine through a file of its own in the
// system's temporary folder, `health-gate-<port>.pid`, written once the port is bound and removed at exit, and
// sends it SIGHUP (the reload). A file whose process is gone (a supervisor killed with SIGKILL) is not trusted.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCodes, SupervisorError } from '../core/errors.js';

export function controlFilePath(port: number): string {
  return path.join(os.tmpdir(), `health-gate-${port}.pid`);
}

/** Records this process as the supervisor of `port` until it exits. */
export function announceSupervisor(port: number): void {
  const file = controlFilePath(port);
  writeFileSync(file, `${process.pid}\n`);
  process.once('exit', () => {
    // Only its own: a newer supervisor of the same port may have replaced the file.
    if (readPid(file) === process.pid) rmSync(file, { force: true });
  });
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends SIGHUP to the supervisor of `port`; returns its pid, or throws SUP_ERR_USAGE saying what was found. */
export function reloadSupervisor(port: number): number {
  const file = controlFilePath(port);
  const pid = readPid(file);
  if (pid === undefined || !isRunning(pid)) {
    throw new SupervisorError(ErrorCodes.USAGE, `No health-gate runs on port ${port} here (${pid === undefined ? `no ${file}` : `process ${pid} of ${file} is gone`})`, {
      hint: 'Give the port the supervisor serves (--port or PORT), on the machine (or in the container) where it runs; or send it SIGHUP.',
    });
  }
  process.kill(pid, 'SIGHUP');
  return pid;
}
