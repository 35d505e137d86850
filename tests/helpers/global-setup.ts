import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import type { TestProject } from 'vitest/node';
import { startEmbeddedDatabase } from '../../supervisor/database/embedded.js';

const LOCAL_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
// A throwaway cluster: durability off for speed, room for the connections of files that run in parallel.
const EMBEDDED_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' };

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of a role allowed to create and drop databases. */
    adminDatabaseUrl: string;
  }
}

// The server's version, or why it cannot be used.
async function probe(url: string): Promise<{ version: string } | { problem: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return { version: rows[0]?.server_version.split(' ')[0] ?? 'unknown' };
  } catch (error) {
    return { problem: (error as Error).message };
  } finally {
    await client.end().catch(() => {});
  }
}

function announce(what: string): void {
  process.stderr.write(`tests: ${what}, Node ${process.version}\n`);
}

// Picks the server the suite runs against and hands its URL to every test file: an embedded PostgreSQL in a
// temporary directory, started and removed by this run, when TEST_DATABASE=embedded; otherwise
// TEST_DATABASE_URL when set, else the local server on 127.0.0.1:5432 when it answers, else an embedded one.
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const mode = process.env.TEST_DATABASE ?? 'auto';
  if (!['auto', 'embedded'].includes(mode)) throw new Error(`TEST_DATABASE must be \`auto\` or \`embedded\`, got \`${mode}\``);

  const given = process.env.TEST_DATABASE_URL;
  if (given && mode === 'auto') {
    const result = await probe(given);
    if ('problem' in result) {
      throw new Error(
        `The tests could not connect to TEST_DATABASE_URL ${redact(given)} (${result.problem}). ` +
          'It must name a role that may create databases; unset it to use a local or embedded server.',
      );
    }
    announce(`PostgreSQL ${result.version} from TEST_DATABASE_URL`);
    project.provide('adminDatabaseUrl', given);
    return undefined;
  }

  let reason = 'TEST_DATABASE=embedded';
  if (mode === 'auto') {
    const local = await probe(LOCAL_SERVER_URL);
    if ('version' in local) {
      announce(`PostgreSQL ${local.version} on 127.0.0.1:5432`);
      project.provide('adminDatabaseUrl', LOCAL_SERVER_URL);
      return undefined;
    }
    reason = `no usable server on 127.0.0.1:5432: ${local.problem}`;
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), 'test-postgres-'));
  // As root the server runs as the `postgres` user, which must be able to reach its data directory.
  await chmod(dir, 0o755);
  const database = await startEmbeddedDatabase({
    dataDir: path.join(dir, 'data'),
    logger: pino({ level: 'warn' }),
    settings: EMBEDDED_SETTINGS,
  }).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  announce(`embedded PostgreSQL ${database.version} in ${dir} (${reason})`);
  project.provide('adminDatabaseUrl', database.adminUrl);
  return async () => {
    await database.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
