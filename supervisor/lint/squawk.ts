// Runs squawk (a linter for PostgreSQL migrations, the `squawk-cli` package with a binary per platform) on
// SQL texts and returns what it found. squawk is an optional dependency: without it, linting is unavailable.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { ErrorCodes, SupervisorError } from '../core/errors.js';

// squawk lints a few files in well under a second; a run that takes this long is stuck.
const SQUAWK_TIMEOUT_MS = 60_000;

/** One finding, with the file line it starts on (1-based). */
export interface SquawkFinding {
  readonly file: string;
  readonly line: number;
  readonly rule: string;
  readonly message: string;
  readonly help: string | undefined;
}

export interface SquawkInput {
  /** A file name, unique within one run. */
  readonly name: string;
  readonly sql: string;
}

interface ReportedFinding {
  readonly file: string;
  readonly line: number;
  readonly rule_name: string;
  readonly message: string;
  readonly help: string | null;
}

function squawkBin(): string {
  const require = createRequire(import.meta.url);
  try {
    return path.join(path.dirname(require.resolve('squawk-cli/package.json')), 'js/bin/squawk');
  } catch (error) {
    throw new SupervisorError(ErrorCodes.LINT_UNAVAILABLE, 'The migration linter (squawk, the `squawk-cli` package) is not installed', {
      cause: error,
      hint: 'It is an optional dependency of health-gate: install without --omit=optional, or add it with `npm install --save-dev squawk-cli`.',
    });
  }
}

/**
 * Lints the texts in one squawk run. `assumeInTransaction`: they run inside a transaction (squawk then does
 * not ask for one, and knows that a table created earlier in the same file is new).
 */
export async function runSquawk(inputs: readonly SquawkInput[], assumeInTransaction: boolean): Promise<SquawkFinding[]> {
  if (inputs.length === 0) return [];
  const bin = squawkBin();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'health-gate-lint-'));
  try {
    // A name may have a folder (Prisma's `<name>/migration.sql`).
    await Promise.all(
      inputs.map(async (input) => {
        await mkdir(path.dirname(path.join(dir, input.name)), { recursive: true });
        await writeFile(path.join(dir, input.name), input.sql);
      }),
    );
    const { execa } = await import('execa');
    const args = ['--reporter', 'json', ...(assumeInTransaction ? ['--assume-in-transaction'] : []), ...inputs.map((input) => input.name)];
    // Exit status 1 means findings; anything else that prints no JSON is a failure of squawk itself.
    const result = await execa(process.execPath, [bin, ...args], { cwd: dir, reject: false, env: { NO_COLOR: '1' }, timeout: SQUAWK_TIMEOUT_MS });
    if (result.timedOut) {
      throw new SupervisorError(ErrorCodes.LINT_UNAVAILABLE, `squawk did not finish within ${SQUAWK_TIMEOUT_MS} ms`, {
        hint: 'Run `health-gate migrate lint` to see where it stalls, or set MIGRATION_LINT=off.',
      });
    }
    let reported: ReportedFinding[];
    try {
      reported = JSON.parse(result.stdout || '[]') as ReportedFinding[];
    } catch (error) {
      throw new SupervisorError(ErrorCodes.LINT_UNAVAILABLE, `squawk did not run: ${result.stderr || result.stdout || `exit ${result.exitCode}`}`, {
        cause: error,
        hint: 'Reinstall its package (`npm ci`); squawk ships a binary per platform in @squawk-cli/<platform>.',
      });
    }
    return reported.map((finding) => ({
      file: finding.file,
      line: finding.line + 1,
      rule: finding.rule_name,
      message: finding.message,
      help: finding.help ?? undefined,
    }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
