// The public server when the supervisor's own routes cannot load (Fastify missing from the install): the start
// fails once, and requests that were waiting for the routes get an answer instead of an unhandled rejection.
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createPhaseMachine } from '../../../supervisor/core/phases.js';
import { createProxy } from '../../../supervisor/http/proxy.js';
import { createPublicServer } from '../../../supervisor/http/public-server.js';
import { useSupervisorFixture } from '../../helpers/supervisor-fixture.js';
import { eventually } from '../../helpers/supervisor-process.js';

// `import('fastify')` in public-server.ts waits for the test, then fails as it does when the package is missing. The
// mock names the file that public-server.ts resolves, which is not this file's when the supervisor has a fastify of
// its own (.ci/lowest-versions.mjs installs one under supervisor/node_modules).
const fastifyLoad = await vi.hoisted(async () => {
  const { createRequire } = await import('node:module');
  let fail: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  const entry = createRequire(new URL('../../../supervisor/http/public-server.ts', import.meta.url)).resolve('fastify');
  return { entry, failed, fail: (error: Error) => fail(error) };
});
vi.mock(fastifyLoad.entry, () => fastifyLoad.failed);

const fixture = useSupervisorFixture('public_server');
const FASTIFY_FAILS_TO_LOAD = fileURLToPath(new URL('../../fixtures/fastify-fails-to-load.mjs', import.meta.url));

describe('the public server', () => {
  it('answers 503 to the requests that waited for the own routes when Fastify cannot load, and reports it once', async () => {
    const logger = pino({ level: 'silent' });
    const phases = createPhaseMachine(logger);
    const proxy = createProxy({ getTarget: () => undefined, sendUnavailable: (_req, res) => res.end(), isDraining: () => false, logger });
    const server = createPublicServer({
      phases,
      proxy,
      logger,
      limits: { httpHeadersTimeoutMs: 10_000, httpRequestTimeoutMs: 20_000, httpMaxConnections: undefined, httpMaxWebSockets: 10, httpSendTimeoutMs: 0, httpWebSocketIdleTimeoutMs: 0 },
    });
    let received = 0;
    server.server.on('request', () => received++);
    await server.listen(0, '127.0.0.1');
    try {
      const { port } = server.server.address() as { port: number };
      const waiting = ['/health', '/health/live', '/HEALTH/'].map(async (path) => {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10_000) });
        return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
      });
      await eventually(() => (received === 3 ? true : undefined), 10_000, 'the three requests at the server');
      fastifyLoad.fail(new Error("Cannot find package 'fastify'"));

      for (const answer of await Promise.all(waiting)) {
        expect(answer).toMatchObject({ status: 503, type: 'application/health+json', body: { status: 'fail' } });
      }
      await expect(server.routesLoaded()).rejects.toMatchObject({ code: 'SUP_ERR_UNEXPECTED', message: expect.stringContaining('own routes could not load') });
    } finally {
      await server.close();
    }
  });

  it('fails the start once, with exit 1 and nothing but log entries, when Fastify cannot load', async () => {
    const sup = await fixture.start({ NODE_OPTIONS: `--import=${FASTIFY_FAILS_TO_LOAD}` });
    expect((await sup.exited).code).toBe(1);
    const failures = sup.entries().filter((entry) => entry.event === 'failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'SUP_ERR_UNEXPECTED', msg: expect.stringContaining('fastify') });
    // No unhandled rejection's stack trace on stderr.
    await eventually(() => (sup.lines.length > 0 ? true : undefined));
    expect(sup.lines.filter((line) => !line.startsWith('{'))).toEqual([]);
  });
});
