import { fork } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../app';
import { systemActor } from '../audit/service';
import { systemClock } from '../clock';
import { ConfigError, loadConfig } from '../config';
import { type Context, createContext } from '../context';
import { createDataSource, openDatabase } from '../db/data-source';
import { createLogger } from '../logger';
import { createTransport } from '../mail/delivery';
import { QUESTIONNAIRES_DIR, ROOT_DIR } from '../paths';
import { type Dataset, type DatasetSize, FULL_SIZE, generateDataset, generatedTemplateYaml } from './dataset';
import type { LoadRequest, LoadResult } from './load';
import { QueryProfiler, type QueryTiming } from './profile';
import { measureReminderSweep, measureSweepAtScale, type SweepAtScale, type SweepFigures } from './sweep';

const USAGE = `Usage: npm run bench -- [--out FILE] [--duration SECONDS] [--repeat N] [--vendors N] [--keep DIR | --reuse DIR] [--profile | --profile-all]

Generates a portfolio of 10,000 vendors (30,000 questionnaires of about 80 answers, 20,000 contracts,
10,000 certifications, 100,000 audit entries) in a fresh SQLite file in a temporary folder, or in the
empty PostgreSQL database named by DATABASE_URL, in a child process; then starts the portal on it in
this process and measures its pages with 10 concurrent connections, each after a second of the same
load that is not counted, in three rounds (--repeat).

  --out FILE          where to write the figures as JSON (default: bench/results.json)
  --duration SECONDS  length of each measurement (default: 5)
  --repeat N          measure every page in N rounds and report each page's run with the median p95,
                      and the median of its shares of each round's ceiling (default: 3)
  --vendors N         generate N vendors and the rest in proportion (default: 10000)
  --keep DIR          generate into DIR (absent or empty) and keep it there afterwards
  --reuse DIR         measure a portfolio generated before with --keep DIR, without generating
  --profile           instead of the load, request each page 20 times one at a time and print its
                      queries: how many, their time, and the slowest of them
  --profile-all       with --profile: print every distinct query of each page, not the slowest six
  --sweep-vendors N,M time the reminder sweep on portfolios of these sizes, each in a database of
                      its own holding what the reminder rules read (default: 10000,100000; 0: none)
  --sweep-only        time only the reminder sweep at those sizes; no portfolio, no pages
`;

const LINK_TEMPLATE_ID = 'bench-100-questions';
const CONNECTIONS = 10;
/**
 * Seconds of the same load before each measurement, not counted: the first requests of a page run
 * code not yet compiled and fill the database's prepared statements, which is start-up, not load.
 */
const WARMUP_SECONDS = 1;
const PROFILE_REQUESTS = 20;
/** Written next to the database by the generator: what the measurements need to know. */
const MANIFEST = 'bench-dataset.json';
const PASSWORD = 'bench orchard 42 quietly';
const ADMIN_EMAIL = 'bench-admin@oversight.example';

/** One measured page: what is requested, and the status that counts as success. */
interface Target {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  expect: number;
  body?: string;
  headers?: Record<string, string>;
  /** Signed-in staff page (sends the session cookie). */
  staff: boolean;
}

interface Measured extends LoadResult {
  name: string;
  path: string;
  ratio: number;
  /** Every run of the page, with its share of that round's ceiling (the figures above are those of the run with the median p95). */
  runs: { rps: number; p95: number; ratio: number }[];
}

/** What the generator leaves next to the database for later measurements (--reuse). */
interface Manifest {
  size: DatasetSize;
  data: Dataset;
  sweep: SweepFigures;
  generatorPeakRssMb: number;
}

/** Runs the benchmark: generate (in a child process), serve, measure, report. */
async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        duration: { type: 'string' },
        repeat: { type: 'string' },
        vendors: { type: 'string' },
        keep: { type: 'string' },
        reuse: { type: 'string' },
        profile: { type: 'boolean' },
        'profile-all': { type: 'boolean' },
        'sweep-vendors': { type: 'string' },
        'sweep-only': { type: 'boolean' },
        help: { type: 'boolean' },
        // Internal: the bench runs itself with these as the generator's and the portal's child process.
        'generate-into': { type: 'string' },
        'serve-from': { type: 'string' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const duration = args.duration === undefined ? 5 : Number(args.duration);
  const repeat = args.repeat === undefined ? 3 : Number(args.repeat);
  const vendors = args.vendors === undefined ? FULL_SIZE.vendors : Number(args.vendors);
  if (!Number.isInteger(duration) || duration < 1 || duration > 120) return usageError('--duration must be a whole number of seconds from 1 to 120');
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 9) return usageError('--repeat must be a whole number from 1 to 9');
  if (!Number.isInteger(vendors) || vendors < 10 || vendors > 1_000_000) return usageError('--vendors must be a whole number from 10 to 1000000');
  if (args.keep !== undefined && args.reuse !== undefined) return usageError('--keep and --reuse cannot be given together');
  const sweepSizes = (args['sweep-vendors'] ?? '10000,100000').split(',').map(Number).filter((n) => n !== 0);
  if (sweepSizes.some((n) => !Number.isInteger(n) || n < 10 || n > 1_000_000)) return usageError('--sweep-vendors must be whole numbers from 10 to 1000000, separated by commas (0 for none)');
  if (args['sweep-only']) {
    await sweepAtScale(sweepSizes);
    return 0;
  }
  const size: DatasetSize = { ...FULL_SIZE, vendors, auditEntries: Math.round((FULL_SIZE.auditEntries * vendors) / FULL_SIZE.vendors), outboxMessages: Math.round((FULL_SIZE.outboxMessages * vendors) / FULL_SIZE.vendors) };
  if (args['generate-into'] !== undefined) return generateInto(path.resolve(args['generate-into']), size);
  if (args['serve-from'] !== undefined) return serveFrom(path.resolve(args['serve-from']));
  const out = path.resolve(args.out ?? path.join(ROOT_DIR, 'bench', 'results.json'));

  // Its own data folder and database; only DATABASE_URL (PostgreSQL) is taken from the environment.
  let dataDir: string;
  let manifest: Manifest;
  if (args.reuse !== undefined) {
    dataDir = path.resolve(args.reuse);
    const file = path.join(dataDir, MANIFEST);
    if (!fs.existsSync(file)) return usageError(`${dataDir} holds no portfolio generated with --keep (${MANIFEST} is missing)`);
    manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
    log(`Reusing the portfolio of ${manifest.size.vendors.toLocaleString('en-US')} vendors in ${dataDir}`);
  } else {
    if (args.keep !== undefined) {
      dataDir = path.resolve(args.keep);
      if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) return usageError(`--keep ${dataDir}: the folder must be absent or empty`);
      fs.mkdirSync(dataDir, { recursive: true });
    } else dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-bench-'));
    // The generator runs in a child process, so the portal's memory figure is the portal's own.
    const code = await runChild(process.argv[1]!, ['--generate-into', dataDir, '--vendors', String(vendors)], 'the generator');
    if (code !== 0) {
      if (args.keep === undefined) fs.rmSync(dataDir, { recursive: true, force: true });
      return code;
    }
    manifest = JSON.parse(fs.readFileSync(path.join(dataDir, MANIFEST), 'utf8')) as Manifest;
  }
  const { data } = manifest;
  const config = benchConfig(dataDir);
  const ds = createDataSource(config.database);
  let server: import('node:http').Server | undefined;
  let portal: PortalChild | null = null;
  try {
    const startedAt = Date.now();
    const profiling = args.profile === true || args['profile-all'] === true;
    let base: string;
    let profiler: QueryProfiler | null = null;
    if (profiling) {
      // Profiling counts the portal's queries, so the portal runs in this process.
      await openDatabase(ds);
      const ctx = createContext({ config, ds, clock: systemClock, logger: createLogger('silent'), transport: createTransport(undefined, dataDir), templatesDir: path.join(dataDir, 'templates') });
      // Installed after the context has wrapped the query runner (on SQLite, reads go to reader
      // connections from there), so it sees every query wherever it runs.
      profiler = new QueryProfiler(ds);
      ({ server, base } = await servePortal(ctx));
    } else {
      // The portal runs in a process of its own, as it would in use, so that its memory figure is
      // its own and not the bench's (fetch, the manifest, the sweep measurements).
      portal = await startPortal(process.argv[1]!, dataDir);
      base = portal.base;
    }
    log(`Portal started in ${((Date.now() - startedAt) / 1000).toFixed(1)} s at ${base}`);

    const cookie = await signIn(base, ADMIN_EMAIL, PASSWORD);
    const targets = await targetsFor(base, data);
    if (profiler) {
      await profilePages(profiler, base, targets, cookie, data, args['profile-all'] === true);
      return 0;
    }
    if (!portal) throw new Error('the portal is not running');
    // Each page is measured in every round, one round after the other, so that a busy moment of the
    // machine falls on one measurement of several pages rather than on every measurement of one.
    const runs = targets.map(() => [] as LoadResult[]);
    for (let round = 1; round <= repeat; round++) {
      if (repeat > 1) log(`Round ${round} of ${repeat}`);
      for (const [i, t] of targets.entries()) {
        const headers: Record<string, string> = { ...(t.headers ?? {}), ...(t.staff ? { cookie } : {}) };
        await checkOnce(base, t, headers);
        const r = await load({ url: base + t.path, method: t.method, headers, body: t.body, connections: CONNECTIONS, duration, warmup: WARMUP_SECONDS });
        runs[i]!.push(r);
        log(`  ${t.name}: ${r.rps.toFixed(0)} req/s, p95 ${r.p95} ms${r.non2xx - (t.expect === 200 ? 0 : r.requests) ? `, unexpected statuses ${JSON.stringify(r.statusCodes)}` : ''}`);
      }
    }
    // Each page's figures are those of its run with the median p95; its share of the ceiling is the
    // median of its rounds' shares, each against the ceiling measured in the same round.
    const middle = <T>(xs: T[], key: (x: T) => number): T => [...xs].sort((a, b) => key(a) - key(b))[Math.floor((xs.length - 1) / 2)]!;
    const results: Measured[] = targets.map((t, i) => {
      const r = middle(runs[i]!, (x) => x.p95);
      const ratio = middle(runs[i]!.map((x, round) => (runs[0]![round]!.rps ? x.rps / runs[0]![round]!.rps : 0)), (x) => x);
      return { name: t.name, path: t.path.replace(data.linkToken, '<token>'), ...r, ratio, runs: runs[i]!.map((x, round) => ({ rps: Math.round(x.rps), p95: x.p95, ratio: Math.round((x.rps / runs[0]![round]!.rps) * 1000) / 1000 })) };
    });
    // The kernel's high-water mark of the portal's process, which served the pages and nothing else.
    const peakRssMb = await portal.stop();
    portal = null;
    // Timed after the pages, in databases of their own, so that they do not count in the portal's memory.
    const sweepScale = sweepSizes.length > 0 ? await sweepAtScale(sweepSizes) : [];
    const [load1, load5, load15] = os.loadavg().map((x) => Math.round(x * 100) / 100);

    const report = {
      when: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}`, loadAverageAtEnd: { '1m': load1, '5m': load5, '15m': load15 } },
      database: config.database.type,
      connections: CONNECTIONS,
      durationSeconds: duration,
      repeat,
      warmupSeconds: WARMUP_SECONDS,
      dataset: { size: manifest.size, counts: data.counts, generationSeconds: Math.round(data.seconds * 10) / 10, reused: args.reuse !== undefined },
      peakRssMb,
      peakRssMeasured: "the portal process alone (its maximum resident set, from the kernel): it started, signed the bench's user in and served the pages; the data was generated, the load generated and the sweeps timed in other processes",
      generatorPeakRssMb: manifest.generatorPeakRssMb,
      reminderSweep: manifest.sweep,
      reminderSweepAtScale: sweepScale,
      results,
    };
    printTable(report.results, report.peakRssMb);
    log(`Load average at the end: ${load1} ${load5} ${load15}`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    log(`Figures written to ${out}`);
    return 0;
  } finally {
    if (portal) await portal.stop().catch(() => 0);
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()).closeAllConnections());
    if (ds.isInitialized) await ds.destroy();
    if (args.keep !== undefined || args.reuse !== undefined) log(`Data kept in ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The configuration the portal and the generator share: the bench's own folder, logging off, no mail. */
function benchConfig(dataDir: string) {
  return loadConfig({ ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', BASE_URL: 'http://localhost:3000', TRUST_PROXY: 'false', SMTP_URL: '', SECRET_KEY: '' });
}

/** The child process's work: generate the portfolio into dataDir, time the reminder sweep, write the manifest. */
async function generateInto(dataDir: string, size: DatasetSize): Promise<number> {
  const templatesDir = path.join(dataDir, 'templates');
  fs.mkdirSync(templatesDir, { recursive: true });
  for (const f of fs.readdirSync(QUESTIONNAIRES_DIR).filter((n) => /\.ya?ml$/.test(n))) fs.copyFileSync(path.join(QUESTIONNAIRES_DIR, f), path.join(templatesDir, f));
  fs.writeFileSync(path.join(templatesDir, `${LINK_TEMPLATE_ID}.yaml`), generatedTemplateYaml(LINK_TEMPLATE_ID, 100));
  const config = benchConfig(dataDir);
  const ds = createDataSource(config.database);
  try {
    await openDatabase(ds);
    const [{ n }] = (await ds.query('SELECT COUNT(*) AS n FROM "vendors"')) as { n: number | string }[];
    if (Number(n) > 0) {
      process.stderr.write('bench: the database given by DATABASE_URL already holds vendors; give it an empty database of its own.\n');
      return 2;
    }
    const ctx = createContext({ config, ds, clock: systemClock, logger: createLogger('silent'), transport: createTransport(undefined, dataDir), templatesDir });
    const admin = await createUser(ctx, 'admin', ADMIN_EMAIL, PASSWORD);
    const owners = [admin];
    for (const role of ['procurement', 'reviewer', 'legal', 'procurement', 'reviewer'] as const) owners.push(await createUser(ctx, role, `bench-${role}-${owners.length}@oversight.example`, null));

    log(`Generating ${size.vendors.toLocaleString('en-US')} vendors on ${config.database.type}${config.database.type === 'sqlite' ? ` (${config.database.file})` : ''} in process ${process.pid}…`);
    const data = await generateDataset(ctx, size, LINK_TEMPLATE_ID, owners);
    log(`Generated in ${data.seconds.toFixed(1)} s: ${Object.entries(data.counts).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}`);
    const sweep = await measureReminderSweep(ctx);
    if (sweep.measured) log(`Reminder sweep: ${Object.entries(sweep.seconds).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join('; ')} (${sweep.note})`);
    const manifest: Manifest = { size, data, sweep, generatorPeakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) };
    fs.writeFileSync(path.join(dataDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    return 0;
  } finally {
    if (ds.isInitialized) await ds.destroy();
  }
}

/** Starts the portal as the bench measures it: the bench's user may sign in often, and the ceiling route is there. */
async function servePortal(ctx: Context): Promise<{ server: import('node:http').Server; base: string }> {
  await ctx.vendors.applyIntervals();
  const app = createApp(ctx, { authRateLimit: { windowMs: 60_000, limit: 1000 }, benchBareRoute: true });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The child process's work: serve the portal on dataDir until asked to stop, then report its peak RSS. */
async function serveFrom(dataDir: string): Promise<number> {
  const config = benchConfig(dataDir);
  const ds = createDataSource(config.database);
  await openDatabase(ds);
  const ctx = createContext({ config, ds, clock: systemClock, logger: createLogger('silent'), transport: createTransport(undefined, dataDir), templatesDir: path.join(dataDir, 'templates') });
  const { server, base } = await servePortal(ctx);
  process.send?.({ base });
  await new Promise((resolve) => process.once('message', resolve));
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  await new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections());
  await ds.destroy();
  await new Promise<void>((resolve) => process.send?.({ peakRssMb }, () => resolve()));
  return 0;
}

interface PortalChild {
  base: string;
  /** Stops the portal; resolves with its peak RSS in MB. */
  stop(): Promise<number>;
}

/** Runs the portal in a child process of its own (serveFrom) and resolves once it listens. */
function startPortal(script: string, dataDir: string): Promise<PortalChild> {
  return new Promise((resolve, reject) => {
    const child = fork(script, ['--serve-from', dataDir], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the portal exited with ${code} before it listened`)));
    child.once('message', (msg: { base: string }) => {
      child.removeAllListeners('exit');
      const stop = () =>
        new Promise<number>((done, fail) => {
          child.once('message', (m: { peakRssMb: number }) => done(m.peakRssMb));
          child.once('exit', (code) => fail(new Error(`the portal exited with ${code}`)));
          child.send('stop');
        });
      resolve({ base: msg.base, stop });
    });
  });
}

/** Runs this script again as a child process with the given arguments; resolves with its exit code. */
function runChild(script: string, childArgs: string[], what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = fork(script, childArgs, { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (signal) reject(new Error(`${what} was stopped by ${signal}`));
      else resolve(code ?? 1);
    });
  });
}

/**
 * Requests each page PROFILE_REQUESTS times, one at a time, and prints for each: its time, how many
 * queries it ran and their total time, and its slowest queries (with the time of each).
 */
async function profilePages(profiler: QueryProfiler, base: string, targets: Target[], cookie: string, data: Dataset, everyQuery: boolean): Promise<void> {
  for (const t of targets) {
    const headers: Record<string, string> = { ...(t.headers ?? {}), ...(t.staff ? { cookie } : {}) };
    await checkOnce(base, t, headers);
    profiler.take();
    const walls: number[] = [];
    const perRequest: QueryTiming[][] = [];
    for (let i = 0; i < PROFILE_REQUESTS; i++) {
      const t0 = performance.now();
      const res = await fetch(base + t.path.replace('[<id>]', String(i + 1)), { method: t.method, headers, body: t.body?.replace('[<id>]', String(i + 1)), redirect: 'manual' });
      await res.arrayBuffer();
      walls.push(performance.now() - t0);
      perRequest.push(profiler.take());
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const dbMs = perRequest.map((qs) => qs.reduce((s, q) => s + q.ms, 0));
    log(`\n${t.name} (${t.path.replace(data.linkToken, '<token>')}): median ${median(walls).toFixed(1)} ms, ${perRequest[0]!.length} queries taking ${median(dbMs).toFixed(1)} ms`);
    const bySql = new Map<string, number[]>();
    for (const qs of perRequest) for (const q of qs) bySql.set(q.sql, [...(bySql.get(q.sql) ?? []), q.ms]);
    const rows = [...bySql].map(([sql, ms]) => ({ sql, per: ms.length / PROFILE_REQUESTS, ms: ms.reduce((a, b) => a + b, 0) / PROFILE_REQUESTS })).sort((a, b) => b.ms - a.ms);
    for (const r of rows.slice(0, everyQuery ? rows.length : 6)) log(`  ${r.ms.toFixed(2).padStart(7)} ms  ×${r.per.toFixed(1).padEnd(4)} ${r.sql.replace(/\s+/g, ' ').slice(0, 260)}`);
  }
}

/** Times the reminder sweep on a generated portfolio of each size and prints the figures. */
async function sweepAtScale(sizes: number[]): Promise<SweepAtScale[]> {
  const figures: SweepAtScale[] = [];
  for (const n of sizes) {
    log(`Reminder sweep at ${n.toLocaleString('en-US')} vendors (a portfolio holding what the rules read)…`);
    const f = await measureSweepAtScale(process.env, n);
    log(`  generated in ${f.generationSeconds.toFixed(1)} s; plan ${f.planSeconds.toFixed(2)} s; first sweep ${f.firstSweepSeconds.toFixed(2)} s (${f.firstSweepReminders} reminders); daily sweep ${f.dailySweepSeconds.toFixed(2)} s (${f.dailySweepReminders} reminders)`);
    figures.push(f);
  }
  return figures;
}

/** The pages measured, in order; the first is the ceiling the others are compared with. */
async function targetsFor(base: string, data: Dataset): Promise<Target[]> {
  const q = `/q/${data.linkToken}`;
  const section = await fetch(`${base}${q}/s/${data.sectionId}`);
  const html = await section.text();
  const m = /action="[^"]*\?_csrf=([^"&]+)"/.exec(html);
  if (section.status !== 200 || !m) throw new Error(`the questionnaire section page did not answer with its form (status ${section.status})`);
  const boundary = '----oversightbench';
  const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const body = field(`present__${data.textQuestionId}`, '1') + field(`a__${data.textQuestionId}`, 'Reviewed and updated by our security team, ref [<id>]') + field('action', 'save') + `--${boundary}--\r\n`;
  return [
    { name: 'ceiling: bare route', method: 'GET', path: '/__bench/bare', expect: 200, staff: false },
    { name: 'dashboard', method: 'GET', path: '/', expect: 200, staff: true },
    { name: 'vendor list (filtered, 50)', method: 'GET', path: '/vendors?status=active&scope=in&sort=next', expect: 200, staff: true },
    { name: 'vendor page', method: 'GET', path: `/vendors/${data.vendorId}`, expect: 200, staff: true },
    { name: 'questionnaire by link (100 q.)', method: 'GET', path: q, expect: 200, staff: false },
    { name: 'questionnaire section by link', method: 'GET', path: `${q}/s/${data.sectionId}`, expect: 200, staff: false },
    { name: 'save an answer by link', method: 'POST', path: `${q}/s/${data.sectionId}?_csrf=${m[1]}`, expect: 303, body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, staff: false },
    { name: 'findings list', method: 'GET', path: '/findings', expect: 200, staff: true },
    { name: 'coverage matrix', method: 'GET', path: '/contracts/matrix', expect: 200, staff: true },
  ];
}

/** One request first, so a page that fails is reported as such rather than measured. */
async function checkOnce(base: string, t: Target, headers: Record<string, string>): Promise<void> {
  const res = await fetch(base + t.path.replace('[<id>]', '0'), { method: t.method, headers, body: t.body?.replace('[<id>]', '0'), redirect: 'manual' });
  await res.arrayBuffer();
  if (res.status !== t.expect) throw new Error(`${t.method} ${t.path} answered ${res.status}, expected ${t.expect}`);
}

/** Runs one measurement in a child process (see load.ts). */
function load(req: LoadRequest): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'load.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (msg: LoadResult | { error: string }) => ('error' in msg ? reject(new Error(msg.error)) : resolve(msg)));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`the load generator exited with ${code}`)));
    child.send(req);
  });
}

/** Signs in through the login form like a browser: the CSRF token from the form, the cookie kept. */
async function signIn(base: string, email: string, password: string): Promise<string> {
  const page = await fetch(`${base}/login`);
  const html = await page.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  const first = cookieOf(page.headers.getSetCookie());
  if (!token || !first) throw new Error('the sign-in page has no CSRF token or session cookie');
  const res = await fetch(`${base}/login`, { method: 'POST', redirect: 'manual', headers: { cookie: first, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ email, password, _csrf: token }).toString() });
  await res.arrayBuffer();
  const cookie = cookieOf(res.headers.getSetCookie()) ?? first;
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
  return cookie;
}

function cookieOf(setCookie: string[]): string | null {
  return setCookie.length ? setCookie.map((c) => c.split(';')[0]).join('; ') : null;
}

/** A staff user with a password (or none), created through the accounts service. */
async function createUser(ctx: Context, role: 'admin' | 'procurement' | 'reviewer' | 'legal', email: string, password: string | null): Promise<number> {
  const { user, link } = await ctx.accounts.inviteUser(systemActor('bench'), { email, name: `Bench ${role} ${email.split('@')[0]}`, role }, { sendEmail: false });
  if (password) await ctx.accounts.setPasswordWithToken(link.split('/').pop()!, password, null);
  return user.id;
}

function printTable(rows: Measured[], peakRssMb: number): void {
  const head = ['Page', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'of ceiling', 'errors'];
  const lines = rows.map((r) => [r.name, r.rps.toFixed(0), r.p50.toFixed(1), r.p95.toFixed(1), r.p99.toFixed(1), `${Math.round(r.ratio * 100)}%`, String(r.errors + r.timeouts)]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`\n${fmt(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${lines.map(fmt).join('\n')}\n\nPeak RSS: ${peakRssMb} MB\n\n`);
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function usageError(message: string): number {
  process.stderr.write(`bench: ${message}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
