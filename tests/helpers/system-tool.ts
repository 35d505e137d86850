// A program of the operating system that some tests need, such as PgBouncer. Where it is missing, those tests
// are skipped with one line saying which, why and how to get it, so that a machine with only Node.js passes;
// with REQUIRE_SYSTEM_TOOLS=1 (as .ci/run sets it) a missing tool fails them instead, so CI never skips them.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

export interface SystemTool {
  /** The name a reader knows it by: `PgBouncer`. */
  readonly name: string;
  /** Its file name, looked for on PATH: `pgbouncer`. */
  readonly command: string;
  /** The variable that names its binary, looked at first: `PGBOUNCER_PATH`. */
  readonly pathVariable: string;
  /** Folders off a user's PATH where packages install it (Debian's `/usr/sbin`). */
  readonly usualFolders: readonly string[];
  /** How to get it: `apt-get install pgbouncer (Debian, Ubuntu), brew install pgbouncer (macOS)`. */
  readonly install: string;
}

const REQUIRE_VARIABLE = 'REQUIRE_SYSTEM_TOOLS';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function locate(tool: SystemTool, env: NodeJS.ProcessEnv): string | undefined {
  const folders = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...tool.usualFolders];
  const candidates = [env[tool.pathVariable] ?? '', ...folders.map((folder) => path.join(folder, tool.command))];
  return candidates.filter(Boolean).find(isExecutable);
}

function required(env: NodeJS.ProcessEnv): boolean {
  const value = env[REQUIRE_VARIABLE] ?? '';
  if (!['', '0', '1'].includes(value)) throw new Error(`Expected \`${REQUIRE_VARIABLE}\` to be 1, 0 or unset, got \`${value}\``);
  return value === '1';
}

/**
 * The path of `tool`, for the `tests` (of the calling test file) that need it. When it is missing, prints one
 * line naming those tests and returns undefined, for `describe.runIf` / `it.runIf`; under REQUIRE_SYSTEM_TOOLS=1
 * it throws instead, which fails the file.
 */
export function findSystemTool(tool: SystemTool, tests: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const found = locate(tool, env);
  if (found) return found;
  const file = path.relative(process.cwd(), expect.getState().testPath ?? '');
  const where = [`$${tool.pathVariable}`, 'PATH', ...tool.usualFolders].join(', ');
  const why = `${tool.name} not found (no \`${tool.command}\` in ${where})`;
  if (required(env)) throw new Error(`Cannot run ${tests} in ${file}: ${why}, and ${REQUIRE_VARIABLE}=1 forbids a skip. Install it: ${tool.install}`);
  process.stderr.write(`tests: skipped ${tests} in ${file}: ${why}. To run them: ${tool.install}\n`);
  return undefined;
}
