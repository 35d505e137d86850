import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../supervisor/dist/cli.js', import.meta.url));

// Variables the CLI reads: the test's own environment must not leak into a run.
const CLI_VARIABLES = [
  'DATABASE_URL',
  'MIGRATIONS_DIR',
  'REQUIRED_TABLES',
  'LOG_LEVEL',
  'NODE_ENV',
  'DB_CONNECT_TIMEOUT_MS',
  'MIGRATION_LOCK_WAIT_TIMEOUT_MS',
  'MIGRATION_LOCK_TIMEOUT_MS',
  'MIGRATION_STATEMENT_TIMEOUT_MS',
];

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the compiled migrate CLI (or `npm run --silent migrate`) as a real process and collects its output. */
export async function runMigrateCli(
  args: readonly string[],
  env: Record<string, string | undefined>,
  via: 'node' | 'npm' = 'node',
): Promise<CliRun> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !CLI_VARIABLES.includes(name)));
  const [command, commandArgs] =
    via === 'npm' ? ['npm', ['run', '--silent', 'migrate', '--', ...args]] : [process.execPath, [CLI, 'migrate', ...args]];
  const child = spawn(command, commandArgs, { cwd: PROJECT_ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}
