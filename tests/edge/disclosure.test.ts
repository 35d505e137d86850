// What an anonymous visitor sees of the supervisor: /health and the status page name the phase, the checks'
// statuses and stable codes, never the database's host, port or name, raw error text, a migration's file name, the
// app's pid or the deployed commit. A request with the metrics token sees all of it, as the log does.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../supervisor/core/free-port.js';
import { createTestDatabase } from '../helpers/database.js';
import { eventually, startSupervisor, type SupervisorProcess } from '../helpers/supervisor-process.js';
import { fixturePath, rawRequest, useEdge } from './harness.js';

const edge = useEdge('edge_disclosure');
const TOKEN = 'disclosure-token-8e2b6d0f4a1c9e73';
const COMMIT = 'abc123def';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function started(env: Record<string, string>): Promise<SupervisorProcess> {
  const sup = await startSupervisor({ env: { APP_COMMAND: `node ${fixturePath('app')}`, METRICS_TOKEN: TOKEN, RENDER_GIT_COMMIT: COMMIT, ...env } });
  cleanups.push(() => sup.kill());
  return sup;
}

/** GET `target` as a client sends it, anonymous or with the token; `accept` picks the status page or JSON. */
async function get(sup: SupervisorProcess, target: string, options: { token?: string; accept?: string } = {}): Promise<{ status: number; body: string }> {
  const headers = [`GET ${target} HTTP/1.1`, `Host: 127.0.0.1:${sup.port}`, `Accept: ${options.accept ?? 'application/json'}`, 'Connection: close'];
  if (options.token) headers.push(`Authorization: Bearer ${options.token}`);
  const response = await rawRequest(sup.port, `${headers.join('\r\n')}\r\n\r\n`);
  return { status: response.status, body: response.body.toString('utf8') };
}

function expectNone(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) expect(text, `shows ${secret}`).not.toContain(secret);
}

describe('while the database cannot be reached', () => {
  let sup: SupervisorProcess;
  // A closed port of five digits: no timestamp has five digits in a row.
  let port: number;
  let secrets: string[];

  beforeAll(async () => {
    port = await freePort();
    secrets = ['127.0.0.1', String(port), 'secretdb_name', 'u:p@', 'ECONNREFUSED', 'attempt ', COMMIT];
    sup = await started({ DATABASE_URL: `postgres://u:p@127.0.0.1:${port}/secretdb_name`, DB_WAIT_TIMEOUT_MS: '600000' });
    await sup.waitForLog((entry) => entry.event === 'database_unavailable' && entry.reason === 'ECONNREFUSED');
  });

  it('/health shows a visitor the phase, the check statuses and SUP_ERR_DB_UNAVAILABLE, and nothing of the database', async () => {
    const { status, body } = await get(sup, '/health');
    expect(status).toBe(503);
    expectNone(body, secrets);
    const health = JSON.parse(body) as Record<string, unknown>;
    expect(health).toMatchObject({
      status: 'fail',
      phase: 'waiting_for_database',
      output: 'SUP_ERR_DB_UNAVAILABLE',
      checks: {
        database: [{ status: 'fail', code: 'SUP_ERR_DB_UNAVAILABLE', observedValue: expect.any(Number), observedUnit: 'attempts' }],
        app: [{ status: 'warn' }],
      },
    });
  });

  it('the status page and the JSON answer show the phase, the steps and the code, and nothing of the database', async () => {
    const page = await get(sup, '/', { accept: 'text/html' });
    expect(page.status).toBe(503);
    expect(page.body).toContain('<h1>Waiting for the database…</h1>');
    expect(page.body).toContain('Last error: <code>SUP_ERR_DB_UNAVAILABLE</code>');
    expect(page.body).toMatch(/<li data-status="fail">.*Database <small>SUP_ERR_DB_UNAVAILABLE<\/small>/);
    expect(page.body).toContain('Phase <code>waiting_for_database</code> for');
    expectNone(page.body, secrets);

    const api = await get(sup, '/api/messages');
    expect(api.status).toBe(503);
    expect(JSON.parse(api.body)).toMatchObject({ error: { code: 'SUP_ERR_NOT_READY', phase: 'waiting_for_database' } });
    expectNone(api.body, secrets);
  });

  it('with the metrics token, /health and the status page name the database and the error, as the log does', async () => {
    const health = JSON.parse((await get(sup, '/health', { token: TOKEN })).body) as Record<string, unknown>;
    expect(health).toMatchObject({
      output: `127.0.0.1:${port}/secretdb_name; SUP_ERR_DB_UNAVAILABLE`,
      releaseId: COMMIT,
      checks: { database: [{ status: 'fail', code: 'SUP_ERR_DB_UNAVAILABLE', output: expect.stringMatching(/^attempt \d+: ECONNREFUSED$/) }] },
    });
    const page = await get(sup, '/', { accept: 'text/html', token: TOKEN });
    expect(page.body).toContain(`127.0.0.1:${port}/secretdb_name`);
    expect(page.body).toMatch(/Database <small>attempt \d+: ECONNREFUSED<\/small>/);
    // A wrong token is no token.
    expectNone((await get(sup, '/health', { token: `${TOKEN}x` })).body, secrets);
  });
});

describe('once ready', () => {
  let sup: SupervisorProcess;
  beforeAll(async () => {
    sup = await edge.superviseForFile('app', { METRICS_TOKEN: TOKEN, RENDER_GIT_COMMIT: COMMIT });
  });

  it('/health shows a visitor no release and no pid; with the token it shows both', async () => {
    const anonymous = await get(sup, '/health');
    expect(anonymous.status).toBe(200);
    expect(JSON.parse(anonymous.body)).toMatchObject({ status: 'pass', phase: 'ready', checks: { app: [{ status: 'pass' }] } });
    expectNone(anonymous.body, ['releaseId', COMMIT, 'pid']);

    const full = await get(sup, '/health', { token: TOKEN });
    expect(JSON.parse(full.body)).toMatchObject({ status: 'pass', releaseId: COMMIT, checks: { app: [{ status: 'pass', output: expect.stringMatching(/^pid \d+$/) }] } });
  });
});

describe('during a slow migration', () => {
  it("/health does not name the migration being applied to a visitor; with the token it does", async () => {
    const db = await createTestDatabase('edge_disclosure_migrating');
    cleanups.push(() => db.drop());
    const dir = await mkdtemp(path.join(os.tmpdir(), 'migrations-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, '0001_secret_step_name.sql'), '-- migrate:up\nSELECT pg_sleep(3);\n');
    const sup = await started({ DATABASE_URL: db.url, MIGRATIONS_DIR: dir });

    const full = await eventually(async () => {
      const health = await get(sup, '/health', { token: TOKEN });
      return health.body.includes('applying migration') ? health : undefined;
    }, 20_000, 'the migration under way');
    expect(JSON.parse(full.body)).toMatchObject({ phase: 'migrating', output: 'applying migration 1 of 1: 0001_secret_step_name' });

    const anonymous = await get(sup, '/health');
    expect(JSON.parse(anonymous.body)).toMatchObject({ status: 'fail', phase: 'migrating', checks: { database: [{ status: 'pass' }] } });
    expectNone(anonymous.body, ['secret_step_name', 'applying', 'pending']);
    await sup.waitForPhase('ready');
  });
});
