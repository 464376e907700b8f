import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { createTestApp, type TestApp } from './helpers/app';
import { csrfFrom } from './helpers/http';
import { type RouteEntry, routeTable } from './helpers/routes';
import { fillPath, linkFormToken, seedWorld, testTemplatesDir, type World } from './helpers/world';

/** Routes where a hostile body means nothing, each with the reason. */
const SKIP: Record<string, string> = {
  'POST /logout': 'takes no input; it only ends the session the other routes need',
};

/** Tables a refused request changes by design, per route, with the reason. */
const CHANGES_BY_DESIGN: Record<string, { tables: RegExp; reason: string }> = {
  'POST /login': { tables: /audit|login|attempt/i, reason: 'a failed sign-in is audited and counted towards the lockout' },
};

/** Routes whose forms are multipart (files); they get multipart bodies as well as urlencoded ones. */
const MULTIPART = new Set([
  'POST /q/:token/s/:sectionId',
  'POST /c/:token/upload',
  'POST /vendors/import',
  'POST /vendors/:id/contracts/new',
  'POST /contracts/:id/document',
  'POST /contracts/amendments/:id/files',
  'POST /contracts/amendments/:id/execute',
  'POST /api/v1/contracts/:id/document',
  'POST /api/v1/amendments/:id/execute',
]);

/** Fields a route without a discovered field list is sent anyway. */
const GENERIC_FIELDS = ['name', 'title', 'notes', 'reason', 'email', 'comment', 'body', 'status'];

/** Fields the questionnaire section form sends (answers by question id, and a marker per question). */
const SECTION_FIELDS = ['a__wisp', 'present__wisp', 'a__trained', 'present__trained', 'action'];

const ONE_MB = 'A'.repeat(1024 * 1024);

/** Short strings that must be stored or refused as text, never interpreted; sent together in one value. */
const MIXED_STRINGS: Record<string, string> = {
  'right-to-left override': 'invoice\u202Efdp.exe',
  combining: `Z${'\u0336\u0335\u0334\u0489'.repeat(8)}`,
  'html and script': '<script>window.__xss=1</script>"><img src=x onerror="window.__xss=1"></textarea>',
  'sql or': "' OR 1=1 --",
  'sql drop': '"; DROP TABLE vendors; --',
  'template syntax': '{{7*7}} <%= 7*7 %> ${7*7}',
  'bidi isolate and zero width': '\u2066\u2067\u2068\u2069\u200B\uFEFFname',
};

/**
 * Strings sent one value at a time: each alone decides a refusal (a NUL is always refused, a long
 * value or an impossible date usually is), so mixed with the others it would hide them.
 */
const HOSTILE_STRINGS: Record<string, string> = {
  'mixed text': Object.values(MIXED_STRINGS).join(' '),
  nul: 'before\u0000after',
  'long unicode and combining': `${'\u{1F600}\u4E2D'.repeat(12000)}Z${'\u0336\u0335\u0334\u0489'.repeat(300)}`,
  'impossible date': '2026-13-45',
};

interface HostileBody {
  label: string;
  /** A urlencoded string, a JSON text, or multipart fields. */
  kind: 'form' | 'json' | 'multipart' | 'none';
  raw?: string;
  fields?: [string, string][];
  /** Refused for certain: a 4xx is the only right answer. */
  mustRefuse?: boolean;
  /** The size limit's answer. */
  oversized?: boolean;
  /** For a body made of several payload kinds: the same body once per kind, to name the one at fault. */
  split?: () => HostileBody[];
}

const enc = encodeURIComponent;
const formOf = (pairs: [string, string][]) => pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');

/** Generated urlencoded bodies for a form with the given fields. */
function formBodies(fields: string[]): HostileBody[] {
  const all = (v: string) => fields.map((f) => [f, v] as [string, string]);
  const out: HostileBody[] = [
    { label: 'empty body', kind: 'form', raw: '' },
    { label: 'unknown fields only', kind: 'form', raw: formOf([['zzz_unknown', '1'], ['isAdmin', 'true'], ['role', 'admin'], ['id', '1']]) },
    { label: 'every field plus unknown ones', kind: 'form', raw: formOf([...all('x'), ['zzz_unknown', '1'], ['createdAt', '1999-01-01']]) },
    { label: 'every field sent twice (an array)', kind: 'form', raw: formOf([...all('a'), ...all('b')]) },
    { label: 'every field as a[] and a[x]', kind: 'form', raw: formOf(fields.flatMap((f) => [[`${f}[]`, 'a'], [`${f}[x]`, 'b']] as [string, string][])) },
    { label: 'every field 1 MB long', kind: 'form', raw: formOf(all(ONE_MB)), oversized: true },
    { label: 'lone surrogate and invalid UTF-8 percent-encodings', kind: 'form', raw: fields.map((f) => `${enc(f)}=%ED%A0%80%FF%FEok`).join('&') },
    { label: 'broken percent-encoding', kind: 'form', raw: fields.map((f) => `${enc(f)}=%zz%2`).join('&') },
    {
      label: '__proto__, constructor and prototype keys',
      kind: 'form',
      raw: formOf([['__proto__[polluted]', '1'], ['__proto__', 'x'], ['constructor[prototype][polluted]', '1'], ['prototype', '1'], ['a[__proto__][polluted]', '1'], ...all('x')]),
    },
  ];
  for (const [name, value] of Object.entries(HOSTILE_STRINGS)) out.push({ label: `every field: ${name}`, kind: 'form', raw: formOf(all(value)) });
  out.at(-4)!.split = () => Object.entries(MIXED_STRINGS).map(([name, value]) => ({ label: `every field: ${name}`, kind: 'form', raw: formOf(all(value)) }));
  return out;
}

/** Generated JSON bodies for an API route with the given fields. */
function jsonBodies(fields: string[]): HostileBody[] {
  const obj = (v: unknown) => JSON.stringify(Object.fromEntries(fields.map((f) => [f, v])));
  const out: HostileBody[] = [
    { label: 'no body', kind: 'none' },
    { label: 'empty object', kind: 'json', raw: '{}' },
    { label: 'null', kind: 'json', raw: 'null', mustRefuse: true },
    { label: 'an array', kind: 'json', raw: '[]' },
    { label: 'a string', kind: 'json', raw: '"vendor"', mustRefuse: true },
    { label: 'malformed JSON', kind: 'json', raw: '{"name": ', mustRefuse: true },
    { label: 'deeply nested arrays', kind: 'json', raw: `${'['.repeat(5000)}${']'.repeat(5000)}` },
    { label: 'unknown fields only', kind: 'json', raw: JSON.stringify({ zzz_unknown: 1, isAdmin: true, role: 'admin', id: 1 }) },
    { label: 'every field an array', kind: 'json', raw: obj(['a', 'b']) },
    { label: 'every field an object', kind: 'json', raw: obj({ a: 1 }) },
    { label: 'every field a number', kind: 'json', raw: obj(1e308) },
    { label: 'every field a boolean', kind: 'json', raw: obj(true) },
    { label: 'every field null', kind: 'json', raw: obj(null) },
    { label: 'every field 1 MB long', kind: 'json', raw: obj(ONE_MB), oversized: true },
    {
      label: '__proto__, constructor and prototype keys, nested too',
      kind: 'json',
      raw: `{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"prototype":{"polluted":1},"nested":{"__proto__":{"polluted":1}},${fields.map((f) => `"${f}":{"__proto__":{"polluted":1}}`).join(',') || '"x":1'}}`,
    },
  ];
  for (const [name, value] of Object.entries(HOSTILE_STRINGS)) out.push({ label: `every field: ${name}`, kind: 'json', raw: obj(value) });
  out.at(-4)!.split = () => Object.entries(MIXED_STRINGS).map(([name, value]) => ({ label: `every field: ${name}`, kind: 'json', raw: obj(value) }));
  return out;
}

/** Generated multipart bodies (fields only: the upload tests send files). */
function multipartBodies(fields: string[]): HostileBody[] {
  const all = (v: string) => fields.map((f) => [f, v] as [string, string]);
  const out: HostileBody[] = [
    { label: 'multipart: no parts', kind: 'multipart', fields: [] },
    { label: 'multipart: unknown fields', kind: 'multipart', fields: [['zzz_unknown', '1'], ['isAdmin', 'true']] },
    { label: 'multipart: every field twice', kind: 'multipart', fields: [...all('a'), ...all('b')] },
    { label: 'multipart: __proto__ keys', kind: 'multipart', fields: [['__proto__', 'x'], ['__proto__[polluted]', '1'], ['constructor[prototype][polluted]', '1'], ...all('x')] },
    { label: 'multipart: every field 1 MB long', kind: 'multipart', fields: all(ONE_MB), oversized: true },
  ];
  for (const [name, value] of Object.entries(HOSTILE_STRINGS)) out.push({ label: `multipart: every field: ${name}`, kind: 'multipart', fields: all(value) });
  out.at(-4)!.split = () => Object.entries(MIXED_STRINGS).map(([name, value]) => ({ label: `multipart: every field: ${name}`, kind: 'multipart', fields: all(value) }));
  return out;
}

/** Tables that change on any request by design. */
const VOLATILE_TABLE = /session/i;

describe('hostile input on every state-changing route', () => {
  let t: TestApp;
  let routes: RouteEntry[];
  let tables: string[];
  before(async () => {
    t = await createTestApp({ templatesDir: testTemplatesDir(), app: { authRateLimit: { windowMs: 60_000, limit: 100_000 } } });
    routes = routeTable(t.app).filter((r) => r.method !== 'GET' && !SKIP[`${r.method} ${r.path}`]);
    tables = t.ctx.ds.entityMetadatas.map((m) => m.tableName).filter((n) => !VOLATILE_TABLE.test(n));
  });
  after(() => t.close());

  /** The row count of every table (less the volatile ones), in one query, for before/after comparison. */
  const snapshot = async (): Promise<Record<string, string>> => {
    const rows = (await t.ctx.ds.query(tables.map((n) => `SELECT '${n}' AS t, COUNT(*) AS n FROM "${n}"`).join(' UNION ALL '))) as { t: string; n: number | string }[];
    return Object.fromEntries(rows.map((r) => [r.t, String(r.n)]));
  };

  const diff = (a: Record<string, string>, b: Record<string, string>) => Object.keys(a).filter((k) => a[k] !== b[k]);

  /** Field names a route asks for: from its refusal of an empty body (JSON field paths, or the inputs of the re-rendered form). */
  const discoverFields = (key: string, res: request.Response): string[] => {
    if (key === 'POST /q/:token/s/:sectionId') return SECTION_FIELDS;
    const found = new Set<string>();
    const apiFields = (res.body as { error?: { fields?: Record<string, string> } } | undefined)?.error?.fields;
    for (const f of Object.keys(apiFields ?? {})) found.add(f.split('.')[0]!);
    if (/html/.test(String(res.headers['content-type']))) {
      for (const m of res.text.matchAll(/<(?:input|select|textarea|button)\b[^>]*?\sname="([A-Za-z_][A-Za-z0-9_.\-[\]]*)"/g)) if (m[1] !== '_csrf') found.add(m[1]!);
    }
    return found.size ? [...found] : GENERIC_FIELDS;
  };

  test('When every state-changing route gets generated hostile bodies, then none answers 5xx, each refusal names its reason and saves nothing, and no prototype is polluted', async () => {
    assert.ok(routes.length > 80, `the route table lists the state-changing routes (${routes.length})`);
    const problems: string[] = [];
    const summary: string[] = [];
    let w: World | undefined;
    let changedState = true;
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      // A fresh world after any route that accepted something, so every route meets intact records.
      const started = Date.now();
      // The admin's session is kept across worlds (a route that ends it fails loudly below, where its CSRF token is read).
      if (!w || changedState) w = await seedWorld(t, w);
      const seeded = Date.now();
      changedState = false;
      const url = fillPath(route.path, w);
      const world = w;
      const isApi = route.path.startsWith('/api/');
      const isLink = route.path.startsWith('/q/') || route.path.startsWith('/c/');
      const anonymous = ['POST /login', 'POST /setup', 'POST /set-password/:token'].includes(key);

      // The credential the route takes: a bearer token, the link's form token, or a session with its CSRF token.
      let csrf = '';
      let agent = world.admin;
      if (isLink) {
        csrf = await linkFormToken(t, route.path.startsWith('/q/') ? `/q/${world.qToken}/s/program` : `/c/${world.cToken}`);
      } else if (anonymous) {
        agent = request.agent(t.app);
        csrf = csrfFrom((await agent.get('/login')).text);
      } else if (!isApi) {
        csrf = csrfFrom((await agent.get('/account/tokens')).text);
      }
      const send = (b: HostileBody) => {
        const target = isLink || b.kind === 'multipart' ? `${url}?_csrf=${enc(csrf)}` : url;
        let req = (isApi || isLink ? request(t.app) : agent)[route.method.toLowerCase() as 'post'](target);
        if (isApi) req = req.set('Authorization', `Bearer ${world.bearer}`).set('Accept', 'application/json');
        else req = req.set('Accept', 'text/html');
        if (b.kind === 'json') return req.set('Content-Type', 'application/json').send(b.raw!);
        if (b.kind === 'form') return req.set('Content-Type', 'application/x-www-form-urlencoded').send(isApi ? b.raw! : [b.raw, `_csrf=${enc(csrf)}`].filter(Boolean).join('&'));
        if (b.kind === 'multipart') {
          for (const [k, v] of b.fields!) req = req.field(k, v);
          return isApi || b.fields!.length ? req : req.field('_ignored', '');
        }
        return req;
      };

      const probe = await send(isApi ? { label: 'empty object', kind: 'json', raw: '{}' } : { label: 'empty body', kind: 'form', raw: '' });
      if (probe.status < 400) changedState = true;
      const fields = discoverFields(key, probe);
      // The section form is read only as multipart (its router sits before the app's form parser).
      const urlencodedRead = key !== 'POST /q/:token/s/:sectionId';
      const bodies = [...(!urlencodedRead ? [] : isApi ? [...jsonBodies(fields), ...formBodies(fields).slice(0, 3)] : formBodies(fields)), ...(MULTIPART.has(key) ? multipartBodies(fields) : [])];
      const statuses = new Map<number, number>();
      let before = await snapshot();
      for (const body of bodies) {
        const res = await send(body);
        const where = `${key} (${url}) with ${body.label}: ${res.status}`;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status < 400) changedState = true;
        const after = await snapshot();
        if (res.status >= 500) {
          // Name the payload kind at fault when the body mixed several.
          const culprits: string[] = [];
          for (const part of body.split?.() ?? []) if ((await send(part)).status >= 500) culprits.push(part.label);
          problems.push(`${where}${culprits.length ? ` (alone, these give a 5xx: ${culprits.join('; ')})` : ''} ${res.text.slice(0, 200)}`);
          changedState = true;
        }
        if (({} as Record<string, unknown>).polluted !== undefined || Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')) {
          problems.push(`${where}: Object.prototype was polluted`);
          delete (Object.prototype as Record<string, unknown>).polluted;
        }
        if (body.oversized && res.status !== 413 && res.status !== 400 && res.status !== 403) problems.push(`${where}: a 1 MB body should be refused with 413 or 400`);
        if (body.mustRefuse && res.status < 400) problems.push(`${where}: should be refused`);
        if (res.status >= 400 && res.status < 500) {
          const changed = diff(before, after).filter((table) => !CHANGES_BY_DESIGN[key]?.tables.test(table));
          if (changed.length) problems.push(`${where}: refused, yet changed ${changed.join(', ')}`);
          const json = /json/.test(String(res.headers['content-type']));
          if (json) {
            const message = (res.body as { error?: { message?: unknown } }).error?.message;
            if (typeof message !== 'string' || !message) problems.push(`${where}: JSON refusal without a message`);
          } else if (!/class="(error-summary|error-message|error-list|lead|flash flash-error)"/.test(res.text)) {
            problems.push(`${where}: HTML refusal without a visible reason: ${res.text.slice(0, 200)}`);
          }
          if (isApi && res.status === 400 && body.label === 'empty object' && json && probe.status === 400) {
            const f = (res.body as { error?: { fields?: Record<string, string> } }).error?.fields;
            if (!f || !Object.keys(f).length) problems.push(`${where}: API validation refusal without field paths`);
          }
        }
        // A body re-sent in parts may have changed what the next body is compared with.
        before = res.status >= 500 && body.split ? await snapshot() : after;
      }
      summary.push(`${key}: ${[...statuses].map(([s, n]) => `${s}x${n}`).join(' ')} fields=${fields.slice(0, 6).join(',')} seed=${seeded - started}ms total=${Date.now() - started}ms`);
      if (process.env.HOSTILE_SUMMARY) fs.appendFileSync(process.env.HOSTILE_SUMMARY, `${summary.at(-1)}\n${problems.length} problems so far\n`);
    }
    assert.deepEqual(problems, []);
  });
});
