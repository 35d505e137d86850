// Load generators: autocannon for HTTP over keep-alive connections, and a WebSocket ping-pong.
import autocannon from 'autocannon';
import WebSocket from 'ws';

export interface LoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Non-2xx answers plus connection errors and timeouts: must be 0 for a valid run. */
  readonly failures: number;
}

export interface HttpLoad {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly method?: 'GET' | 'POST';
  readonly body?: Buffer;
}

export async function httpLoad(load: HttpLoad): Promise<LoadResult> {
  const result = await autocannon({
    url: load.url,
    connections: load.connections,
    duration: load.durationS,
    method: load.method ?? 'GET',
    ...(load.body ? { body: load.body, headers: { 'content-type': 'application/octet-stream' } } : {}),
  });
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** `connections` sockets each send a 64-byte message and wait for its echo, for `durationS`. */
export async function webSocketLoad(url: string, connections: number, durationS: number): Promise<LoadResult> {
  const payload = Buffer.alloc(64, 'w');
  const latencies: number[] = [];
  let failures = 0;
  const deadline = performance.now() + durationS * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const socket = new WebSocket(url);
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      while (performance.now() < deadline) {
        const sentAt = performance.now();
        const echoed = new Promise<boolean>((resolve) => {
          socket.once('message', (data: Buffer) => resolve(data.length === payload.length));
        });
        socket.send(payload);
        if (await echoed) latencies.push(performance.now() - sentAt);
        else failures++;
      }
      socket.close();
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: latencies.length / durationS,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    failures,
  };
}

/** Latencies of one request at a time to `url` while `whileRunning` runs. */
export async function probeLatency(url: string, whileRunning: Promise<unknown>): Promise<{ p50Ms: number; p99Ms: number; count: number }> {
  let running = true;
  void whileRunning.finally(() => (running = false));
  const latencies: number[] = [];
  while (running) {
    const sentAt = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    latencies.push(performance.now() - sentAt);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  latencies.sort((a, b) => a - b);
  return { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), count: latencies.length };
}
