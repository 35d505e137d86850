// SIGTERM as the platform sends it: to the `npm start` process. In-flight requests finish, nothing is left behind.
import { describe, expect, it } from 'vitest';
import { useSupervisorFixture } from '../helpers/supervisor-fixture.js';
import { descendants, eventually, isAlive, type SupervisorProcess } from '../helpers/supervisor-process.js';

const fixture = useSupervisorFixture('shutdown');

async function supervisor(env: Record<string, string> = {}): Promise<SupervisorProcess> {
  const sup = await fixture.start(env, 'npm');
  await sup.waitForPhase('ready');
  return sup;
}

describe('shutdown', () => {
  it('lets an in-flight request finish on SIGTERM to npm start, then exits 0 with nothing left', async () => {
    const sup = await supervisor();
    const tree = descendants(sup.process.pid as number);
    expect(tree.length).toBeGreaterThanOrEqual(3); // supervisor, guard, app (and npm's shell, if any)

    const slow = fetch(`${sup.url}/slow?ms=1500`).then(async (response) => ({ status: response.status, body: await response.text() }));
    await eventually(() => (sup.entries().length > 0 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 300)); // the request is now inside the app
    sup.process.kill('SIGTERM');

    await sup.waitForLog((entry) => entry.event === 'shutdown');
    await expect(fetch(`${sup.url}/health`)).rejects.toThrow(); // no new connections once draining
    expect(await slow).toEqual({ status: 200, body: 'slept 1500' });
    expect(await sup.exited).toEqual({ code: 0, signal: null });
    expect(sup.entries().find((entry) => entry.event === 'app_exit')).toMatchObject({ code: 0, expected: true });
    await eventually(() => (tree.every((pid) => !isAlive(pid)) ? true : undefined), 10_000, 'every process to exit');
  });

  it('kills an app that ignores SIGTERM after APP_STOP_TIMEOUT_MS and still exits 0', async () => {
    const sup = await supervisor({ FIXTURE_IGNORE_SIGTERM: '1', APP_STOP_TIMEOUT_MS: '1000' });
    const tree = descendants(sup.process.pid as number);
    sup.process.kill('SIGTERM');
    expect((await sup.exited).code).toBe(0);
    expect(sup.entries().find((entry) => entry.event === 'app_kill')).toBeDefined();
    await eventually(() => (tree.every((pid) => !isAlive(pid)) ? true : undefined), 10_000, 'every process to exit');
  });

  it('exits at once on a second signal', async () => {
    const sup = await supervisor();
    const slow = fetch(`${sup.url}/slow?ms=20000`).catch(() => 'cut');
    await new Promise((resolve) => setTimeout(resolve, 300));
    sup.process.kill('SIGTERM');
    await sup.waitForLog((entry) => entry.event === 'shutdown');
    sup.process.kill('SIGTERM');
    const status = await sup.exited;
    expect(status.code).toBe(143);
    expect(await slow).toBe('cut');
  });
});
