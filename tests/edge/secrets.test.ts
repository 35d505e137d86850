// The database password stays out of the log however the app prints it: inside JSON (quotes and backslashes
// escaped, once or twice), URL-encoded, or as it is; a short one too, where it stands as a password.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { startSupervisor } from '../helpers/supervisor-process.js';
import { fixturePath } from './harness.js';

// A role with `password` that owns a database of its own, dropped afterwards.
async function withOwnRole<T>(password: string, run: (url: string) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  const name = `edge_secret_${randomBytes(4).toString('hex')}`;
  const literal = `'${password.replaceAll("'", "''")}'`;
  await admin.query(`CREATE ROLE ${name} LOGIN PASSWORD ${literal}`);
  await admin.query(`CREATE DATABASE ${name} OWNER ${name}`);
  const url = new URL(inject('adminDatabaseUrl'));
  url.username = name;
  url.password = encodeURIComponent(password);
  url.pathname = `/${name}`;
  try {
    return await run(url.href);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${name}`);
    await admin.end();
  }
}

describe('the database password in the log', () => {
  it.each([
    ['with a quote, a backslash and an @', 'q"uo\\te@pw1', ['q"uo', 'uo\\te', 'uo\\\\te', 'uo\\\\\\\\te', 'q%22uo', 'te@pw1', 'te%40pw1']],
    ['of two characters, where it stands as a password (not in free text: see core/redact.ts)', 'x9', [':x9@', '"x9"', '\\"x9\\"', 'password=x9']],
  ])('is scrubbed in every form the app prints it, %s', async (_what, password, forms) => {
    await withOwnRole(password, async (url) => {
      const sup = await startSupervisor({ env: { DATABASE_URL: url, APP_COMMAND: `node ${fixturePath('app-prints-its-password')}` } });
      try {
        await sup.waitForPhase('ready');
        await sup.waitForLog((entry) => String(entry.msg).startsWith('raw: '));
        const log = sup.lines.join('\n');
        for (const form of forms) expect(log).not.toContain(form);
        expect(log).toContain('***');
      } finally {
        await sup.kill();
      }
    });
  });
});
