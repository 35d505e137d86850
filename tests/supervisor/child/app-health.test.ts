// Polling the app's health path while it runs: out of rotation after the failure threshold, back at the first
// 200, and a restart asked for at the restart threshold; a hang, an error status and a refused connection alike.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createAppHealth, type AppHealth } from '../../../supervisor/child/app-health.js';
import { eventually } from '../../helpers/supervisor-process.js';

type Mode = 'ok' | 'hang' | 'error';
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

// An app whose health path answers as `mode` says, and the events the monitor reported.
async function watched(thresholds: { failure: number; restart: number }) {
  let mode: Mode = 'ok';
  let polls = 0;
  const server = http.createServer((req, res) => {
    polls++;
    if (mode === 'ok') return res.writeHead(200).end('up');
    if (mode === 'error') return res.writeHead(500).end('down');
    req.resume(); // hang
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const events: string[] = [];
  const health: AppHealth = createAppHealth({
    healthPath: '/health',
    intervalMs: 50,
    failureThreshold: thresholds.failure,
    restartThreshold: thresholds.restart,
    logger: pino({ level: 'silent' }),
    onUnready: (reason) => events.push(`unready: ${reason}`),
    onRecovered: () => events.push('recovered'),
    onUnresponsive: (reason) => events.push(`unresponsive: ${reason}`),
  });
  health.watch(port);
  cleanups.push(() => {
    health.stop();
    server.closeAllConnections();
    server.close();
  });
  // Resolves once the app has answered `count` more polls.
  const polled = (count: number): Promise<true> => {
    const until = polls + count;
    return eventually(() => (polls >= until ? true : undefined), 5_000, `${count} more polls`);
  };
  return { events, setMode: (next: Mode) => void (mode = next), server, health, polled };
}

describe('app health while running', () => {
  it.each([
    ['stops answering', 'hang', /no answer within 50 ms/],
    ['answers 500', 'error', /it answered 500/],
  ] as const)('takes an app that %s out of rotation after the failure threshold, and back at its first 200', async (_what, mode, reason) => {
    const app = await watched({ failure: 3, restart: 0 });
    await app.polled(3);
    expect(app.events).toEqual([]);
    app.setMode(mode);
    await eventually(() => (app.events.length > 0 ? true : undefined), 5_000, 'unready');
    expect(app.events[0]).toMatch(/^unready: no 200 on \/health 3 times in a row/);
    expect(app.events[0]).toMatch(reason);
    app.setMode('ok');
    await eventually(() => (app.events.includes('recovered') ? true : undefined), 5_000, 'recovered');
    expect(app.events).toHaveLength(2);
  });

  it('asks for a restart at the restart threshold and stops polling', async () => {
    const app = await watched({ failure: 2, restart: 4 });
    app.setMode('hang');
    await eventually(() => (app.events.some((event) => event.startsWith('unresponsive')) ? true : undefined), 5_000, 'unresponsive');
    expect(app.events[0]).toMatch(/^unready: no 200 on \/health 2 times/);
    expect(app.events[1]).toMatch(/^unresponsive: no 200 on \/health 4 times/);
    // The point of the wait: eight intervals in which a monitor that still polled would report again.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(app.events).toHaveLength(2);
  });

  it('counts a refused connection as a failure', async () => {
    const app = await watched({ failure: 2, restart: 0 });
    app.server.closeAllConnections();
    app.server.close();
    await eventually(() => (app.events.length > 0 ? true : undefined), 5_000, 'unready');
    expect(app.events[0]).toMatch(/ECONNREFUSED/);
  });

  it('a failure or two below the threshold change nothing, and a success resets the count', async () => {
    const app = await watched({ failure: 3, restart: 0 });
    for (let n = 0; n < 4; n++) {
      app.setMode('error');
      await app.polled(2); // two failures (the second poll may have started before the switch: one or two)
      app.setMode('ok');
      await app.polled(2);
    }
    expect(app.events).toEqual([]);
  });
});
