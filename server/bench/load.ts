import autocannon from 'autocannon';

/**
 * The load generator, run as a child process of the benchmark so that it never shares the portal's
 * event loop (or its memory figure): it receives autocannon's options over IPC, fires the same load
 * for a warm-up that is not counted, then for the measurement, and sends the figures back.
 */
export interface LoadRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  duration: number;
  /** Seconds of the same load first, not counted. */
  warmup: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

process.on('message', (req: LoadRequest) => {
  const options = {
    url: req.url,
    method: req.method,
    headers: req.headers,
    body: req.body,
    // "[<id>]" in the body becomes a fresh id on every request, so each save changes an answer.
    idReplacement: req.body !== undefined,
    connections: req.connections,
  };
  autocannon({ ...options, duration: req.warmup }, (err) => {
    if (err) process.send?.({ error: String(err) });
    else measure(req, options);
  });
});

function measure(req: LoadRequest, options: autocannon.Options): void {
  // Every response time is kept, so the percentiles are exact (autocannon's summary has no p95).
  const times: number[] = [];
  const instance = autocannon(
    { ...options, duration: req.duration },
    (err, result) => {
      if (err) {
        process.send?.({ error: String(err) });
        return;
      }
      const codes: Record<string, number> = {};
      for (const [k, v] of Object.entries(result.statusCodeStats ?? {})) codes[k] = (v as { count: number }).count;
      const out: LoadResult = {
        requests: result.requests.total,
        rps: result.requests.average,
        p50: percentile(times, 50),
        p95: percentile(times, 95),
        p99: percentile(times, 99),
        max: result.latency.max,
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
        statusCodes: codes,
      };
      process.send?.(out, () => process.exit(0));
    },
  );
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => times.push(responseTime));
  instance.on('error', (err: Error) => process.send?.({ error: String(err) }));
}

/** The nearest-rank percentile of response times in milliseconds. */
function percentile(times: number[], p: number): number {
  if (times.length === 0) return 0;
  const sorted = [...times].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 100) / 100;
}
