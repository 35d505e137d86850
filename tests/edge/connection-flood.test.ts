// A flood of idle connections at the edge: with the supervisor's descriptor limit at 1,024 and 1,000 connections
// open from one client that never send a byte, new requests are still served, because at the connection budget
// (HTTP_MAX_CONNECTIONS, derived from the limit) a new connection closes the oldest idle one instead of the
// supervisor running out of descriptors for the app. Before the budget: resets, while /health said 200.
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, useEdge } from './harness.js';
import type { SupervisorProcess } from '../helpers/supervisor-process.js';

const edge = useEdge('edge_flood');
const TOKEN = 'edge-flood-metrics-token-0123';
const idle: net.Socket[] = [];
let sup: SupervisorProcess;

beforeAll(async () => {
  sup = await edge.superviseForFile('echo-app', { METRICS_TOKEN: TOKEN }, { descriptorLimit: 1024 });
}, 60_000);
afterAll(() => {
  for (const socket of idle) socket.destroy();
});

async function openIdle(port: number, count: number): Promise<void> {
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async () => {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => {});
        idle.push(socket);
        await Promise.race([once(socket, 'connect'), once(socket, 'close')]);
      }),
    );
  }
}

describe('1,000 idle connections under a descriptor limit of 1,024', () => {
  it('leave 20 new requests at once all answered 200 by the app, and /health ready', async () => {
    await openIdle(sup.port, 1_000);
    const requests = Array.from({ length: 20 }, (_, i) => rawRequest(sup.port, `GET /flood/${i}?length HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`, { timeoutMs: 20_000 }));
    const answers = await Promise.all(requests);
    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(answers.map((answer) => (JSON.parse(answer.body.toString()) as { url: string }).url)).toEqual(Array.from({ length: 20 }, (_, i) => `/flood/${i}?length`));
    const health = await rawRequest(sup.port, 'GET /health HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
    expect(health.status).toBe(200);
    // The oldest idle connections made room, and the supervisor said so once.
    expect(idle.filter((socket) => socket.destroyed || socket.readableEnded).length).toBeGreaterThan(0);
    expect(sup.entries().filter((entry) => entry.event === 'connection_limit')).toHaveLength(1);
    const metrics = await rawRequest(sup.port, `GET /metrics HTTP/1.1\r\nHost: example.com\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`);
    const shed = Number(/^supervisor_client_connections_shed_total\{reason="idle"\} (\d+)$/m.exec(metrics.body.toString())?.[1]);
    expect(shed).toBeGreaterThan(0);
    expect(Number(/^supervisor_client_connections (\d+)$/m.exec(metrics.body.toString())?.[1])).toBeGreaterThan(400);
  }, 120_000);
});
