// The public server when the supervisor's own routes cannot load (Fastify missing from the install).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useSupervisorFixture } from '../../helpers/supervisor-fixture.js';
import { eventually } from '../../helpers/supervisor-process.js';

const fixture = useSupervisorFixture('public_server');
const FASTIFY_FAILS_TO_LOAD = fileURLToPath(new URL('../../fixtures/fastify-fails-to-load.mjs', import.meta.url));

describe('the public server', () => {
  it('fails the start once, answering 503 meanwhile, when Fastify cannot load', async () => {
    const sup = await fixture.start({ NODE_OPTIONS: `--import=${FASTIFY_FAILS_TO_LOAD}` });
    await sup.waitForLog((entry) => entry.event === 'listening');

    // Sent while Fastify loads (it fails a second after the port opens): each gets an answer, none hangs.
    const answers = await Promise.all(
      ['/health', '/health/live', '/health'].map(async (path) => {
        const response = await fetch(`${sup.url}${path}`, { signal: AbortSignal.timeout(10_000) });
        return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
      }),
    );
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 503, type: 'application/health+json', body: { status: 'fail' } });
    }

    expect((await sup.exited).code).toBe(1);
    const failures = sup.entries().filter((entry) => entry.event === 'failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'SUP_ERR_UNEXPECTED', msg: expect.stringContaining('fastify') });
    // Nothing but log entries: no unhandled rejection's stack trace on stderr.
    await eventually(() => (sup.lines.length > 0 ? true : undefined));
    expect(sup.lines.filter((line) => !line.startsWith('{'))).toEqual([]);
  });
});
