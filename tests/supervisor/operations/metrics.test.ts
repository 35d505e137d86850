// /metrics as a scraper sees it: off by default, behind a bearer token on the public port or on a private port.
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../../supervisor/core/config.js';
import { isSupervisorError } from '../../../supervisor/core/errors.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { MIGRATIONS_DIR } from '../../helpers/migrate.js';
import { freePort } from '../../../supervisor/core/free-port.js';
import { eventually, FIXTURE_APP, startSupervisor, type SupervisorProcess } from '../../helpers/supervisor-process.js';

const TOKEN = 'metrics-token-7f3a9c1e5b2d4f60';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function supervisor(env: Record<string, string | undefined>): Promise<SupervisorProcess> {
  const db: TestDatabase = await createTestDatabase('metrics');
  cleanups.push(() => db.drop());
  const sup = await startSupervisor({ env: { DATABASE_URL: db.url, ...env } });
  cleanups.push(() => sup.kill());
  await sup.waitForPhase('ready');
  return sup;
}

async function scrape(url: string, token?: string): Promise<{ status: number; contentType: string | null; body: string }> {
  const response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
}

/** One sample's value from Prometheus text, e.g. `supervisor_phase{phase="ready"}`; undefined when absent. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  it('are not exposed without configuration: /metrics reaches the app like any path', async () => {
    const sup = await supervisor({});
    const response = await scrape(`${sup.url}/metrics`, TOKEN);
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toEqual({ error: 'not found', path: '/metrics' }); // the fixture app's answer
  });

  it('with METRICS_TOKEN: 401 without the token, Prometheus text with it, counters that follow the traffic', async () => {
    // The app prints the token at start: it must not have it, and the log must not show it either way.
    const sup = await supervisor({ METRICS_TOKEN: TOKEN, APP_COMMAND: `echo "app sees $METRICS_TOKEN"; exec node ${FIXTURE_APP}` });
    const url = `${sup.url}/metrics`;

    for (const token of [undefined, 'wrong-token-of-some-length', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const refused = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await refused.text()).not.toContain('supervisor_');
    }

    const before = await scrape(url, TOKEN);
    expect(before.status).toBe(200);
    expect(before.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(before.body).toContain('# TYPE supervisor_phase gauge');
    expect(sample(before.body, 'supervisor_phase{phase="ready"}')).toBe(1);
    expect(sample(before.body, 'supervisor_phase{phase="migrating"}')).toBe(0);
    const migrations = (await readdir(MIGRATIONS_DIR)).filter((name) => name.endsWith('.sql'));
    expect(sample(before.body, 'supervisor_migrations_applied_total')).toBe(migrations.length);
    for (const name of migrations) {
      expect(sample(before.body, `supervisor_migration_duration_seconds{migration="${name.replace(/\.sql$/, '')}"}`)).toBeGreaterThanOrEqual(0);
    }
    expect(sample(before.body, 'supervisor_database_attempts_total{outcome="success"}')).toBe(1);
    for (const phase of ['waiting_for_database', 'migrating', 'verifying_schema', 'starting_app']) {
      expect(sample(before.body, `supervisor_startup_phase_duration_seconds{phase="${phase}"}`)).toBeGreaterThanOrEqual(0);
    }

    const twoHundreds = ['/status/200', '/status/201', '/status/204', '/headers', '/status/200'];
    for (const path of [...twoHundreds, '/status/404', '/status/503']) await (await fetch(`${sup.url}${path}`)).arrayBuffer();
    const after = (await scrape(url, TOKEN)).body;
    const delta = (series: string): number => (sample(after, series) ?? 0) - (sample(before.body, series) ?? 0);
    expect(delta('supervisor_proxy_requests_total{status_class="2xx"}')).toBe(twoHundreds.length);
    expect(delta('supervisor_proxy_requests_total{status_class="4xx"}')).toBe(1);
    expect(delta('supervisor_proxy_requests_total{status_class="5xx"}')).toBe(1);
    expect(delta('supervisor_proxy_request_duration_seconds_count{status_class="2xx"}')).toBe(twoHundreds.length);
    expect(delta('supervisor_proxy_request_duration_seconds_bucket{le="+Inf",status_class="2xx"}')).toBe(twoHundreds.length);

    const socket = new WebSocket(`ws://127.0.0.1:${sup.port}/ws`);
    await once(socket, 'message');
    expect(sample((await scrape(url, TOKEN)).body, 'supervisor_websocket_connections')).toBe(1);
    socket.close();
    await eventually(async () => (sample((await scrape(url, TOKEN)).body, 'supervisor_websocket_connections') === 0 ? true : undefined));

    // A POST: a GET under way when the app dies goes to the new app again (and this one would crash it too).
    await fetch(`${sup.url}/crash`, { method: 'POST' }).catch(() => {});
    await eventually(() => (sup.entries().filter((entry) => entry.event === 'app_ready').length === 2 ? true : undefined));
    await sup.waitForPhase('ready');
    expect(sample((await scrape(url, TOKEN)).body, 'supervisor_app_restarts_total')).toBe(1);

    expect(sup.entries().filter((entry) => String(entry.msg).startsWith('app sees')).map((entry) => String(entry.msg).trim())).toContain('app sees');
    expect(sup.lines.join('\n')).not.toContain(TOKEN);
  });

  it('with METRICS_PORT: served on that port on 127.0.0.1, not on the public one', async () => {
    const metricsPort = await freePort();
    const sup = await supervisor({ METRICS_PORT: String(metricsPort) });
    const privately = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(privately.status).toBe(200);
    expect(sample(privately.body, 'supervisor_phase{phase="ready"}')).toBe(1);
    expect((await scrape(`http://127.0.0.1:${metricsPort}/health`)).status).toBe(404);

    const publicly = await scrape(`${sup.url}/metrics`);
    expect(JSON.parse(publicly.body)).toEqual({ error: 'not found', path: '/metrics' });
    expect(sup.entries().find((entry) => entry.event === 'metrics_listening')).toMatchObject({ host: '127.0.0.1', port: metricsPort });
  });

  it('with METRICS_PORT and METRICS_TOKEN: the private port asks for the token too', async () => {
    const metricsPort = await freePort();
    await supervisor({ METRICS_PORT: String(metricsPort), METRICS_TOKEN: TOKEN });
    expect((await scrape(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(401);
    expect((await scrape(`http://127.0.0.1:${metricsPort}/metrics`, TOKEN)).status).toBe(200);
  });

  it('fails the start with SUP_ERR_PORT_IN_USE, naming METRICS_PORT, when that port is taken', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const { port } = taken.address() as net.AddressInfo;

    const sup = await startSupervisor({ env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', METRICS_PORT: String(port) } });
    cleanups.push(() => sup.kill());
    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().filter((entry) => entry.event === 'failed')).toEqual([
      expect.objectContaining({
        code: 'SUP_ERR_PORT_IN_USE',
        msg: `start failed: METRICS_PORT ${port} on 127.0.0.1 is already in use`,
        hint: 'Stop the other process or set METRICS_PORT to a free port.',
      }),
    ]);
  });

  it('refuses a short token without echoing it, and a METRICS_PORT equal to PORT', () => {
    let caught: unknown;
    try {
      loadConfig({ DATABASE_URL: 'postgres://u@localhost/db', METRICS_TOKEN: 'short-secret', PORT: '9000', METRICS_PORT: '9000' });
    } catch (error) {
      caught = error;
    }
    expect(isSupervisorError(caught) && caught.code).toBe('SUP_ERR_CONFIG_INVALID');
    const message = (caught as Error).message;
    expect(message).toContain('Expected `METRICS_TOKEN` to be at least 16 printable ASCII characters');
    expect(message).toContain('Expected `METRICS_PORT` to differ from `PORT` (9000)');
    expect(message).not.toContain('short-secret');
  });
});
