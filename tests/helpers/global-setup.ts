import type { TestProject } from 'vitest/node';
import pg from 'pg';

const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of a role allowed to create and drop databases. */
    adminDatabaseUrl: string;
  }
}

// Finds the Postgres server the suite runs against and hands its URL to every test file.
export default async function setup(project: TestProject): Promise<void> {
  const adminDatabaseUrl = process.env.TEST_DATABASE_URL ?? DEFAULT_SERVER_URL;
  const client = new pg.Client({ connectionString: adminDatabaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `The tests need a PostgreSQL server: could not connect to ${redact(adminDatabaseUrl)} ` +
        `(${(error as Error).message}). Set TEST_DATABASE_URL to a role that may create databases.`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => {});
  }
  project.provide('adminDatabaseUrl', adminDatabaseUrl);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
