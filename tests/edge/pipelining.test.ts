// Pipelined requests at the edge: a client connection has at most one request in flight to the app, the others
// wait on that connection (not in new connections to the app) and reach the app in order, and their answers come
// back in order, as nginx does. Served directly, a Node app takes them all at once.
import { describe, expect, it } from 'vitest';
import { rawRequest, useEdge } from './harness.js';

const edge = useEdge('edge_pipelining');

interface Seen {
  readonly url: string;
  readonly seq: number;
  readonly maxConcurrent: number;
  readonly connections: number;
}

/** Sends `count` pipelined GETs on one connection and returns the app's account of each, in the order they came back. */
async function pipeline(port: number, count: number): Promise<Seen[]> {
  const requests = Array.from({ length: count }, (_, i) => `GET /p/${i} HTTP/1.1\r\nHost: example.com\r\n\r\n`).join('');
  const done = (text: string): boolean => (text.match(/"seq":/g) ?? []).length >= count;
  const response = await rawRequest(port, requests, { until: done, timeoutMs: 60_000 });
  return [...response.raw.matchAll(/\{"url".*?\}/g)].map(([json]) => JSON.parse(json) as Seen);
}

describe('pipelined requests', () => {
  it('reach the app one at a time, in order, over one connection, and are answered in order', async () => {
    const sup = await edge.supervise('app-counts-concurrency');
    const direct = await edge.direct('app-counts-concurrency');
    const [through, reference] = await Promise.all([pipeline(sup.port, 200), pipeline(direct, 200)]);

    expect(through.map((seen) => seen.url)).toEqual(Array.from({ length: 200 }, (_, i) => `/p/${i}`));
    expect(through.map((seen) => seen.seq)).toEqual([...through.map((seen) => seen.seq)].sort((a, b) => a - b));
    expect(through.at(-1)?.maxConcurrent).toBe(1);
    // One connection to the app (a second only if the first was closed under it), not one per request.
    expect(through.at(-1)?.connections).toBeLessThanOrEqual(2);
    // The reference: Node hands a pipelining client's requests to the app all at once.
    expect(reference.at(-1)?.maxConcurrent).toBeGreaterThan(1);
  }, 90_000);

  it('from several clients at once hold one connection to the app each', async () => {
    const sup = await edge.supervise('app-counts-concurrency');
    const answers = await Promise.all([1, 2, 3, 4].map(() => pipeline(sup.port, 50)));
    for (const seen of answers) expect(seen.map((one) => one.url)).toEqual(Array.from({ length: 50 }, (_, i) => `/p/${i}`));
    const last = answers.flat().sort((a, b) => b.seq - a.seq)[0];
    expect(last?.maxConcurrent).toBeLessThanOrEqual(4);
    expect(last?.connections).toBeLessThanOrEqual(8);
  }, 90_000);
});
