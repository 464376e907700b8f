import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../server/config';

const MAIN = path.resolve(__dirname, '..', 'server', 'main.js');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-config-'));
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ DATA_DIR: tempDir(), ...env });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('configuration', () => {
  test('When nothing is set, then the embedded defaults apply: SQLite in DATA_DIR, port 3000, local mail', () => {
    const dir = tempDir();
    const c = loadConfig({ DATA_DIR: dir });
    assert.equal(c.port, 3000);
    assert.deepEqual(c.database, { type: 'sqlite', file: path.join(dir, 'oversight.sqlite') });
    assert.equal(c.baseUrl, 'http://localhost:3000');
    assert.equal(c.smtpUrl, undefined);
    assert.equal(c.secureCookies, false);
    assert.equal(c.trustProxy, false);
    assert.equal(c.logLevel, 'info');
  });

  test('When SECRET_KEY is unset, then a key is generated once with mode 0600 and reused', () => {
    const dir = tempDir();
    const first = loadConfig({ DATA_DIR: dir });
    const file = path.join(dir, 'secret.key');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const second = loadConfig({ DATA_DIR: dir });
    assert.ok(first.secretKey.equals(second.secretKey));
    assert.equal(first.secretKey.length, 32);
    assert.ok(!loadConfig({ DATA_DIR: tempDir() }).secretKey.equals(first.secretKey), 'each installation has its own key');
  });

  test('When each variable has a bad value, then the error names that variable and the reason', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PORT: 'abc' }, /^PORT: must be a whole number/],
      [{ PORT: '70000' }, /^PORT: must be from 0 to 65535/],
      [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: must be a postgres:\/\/ URL/],
      [{ BASE_URL: 'ftp://example.com' }, /^BASE_URL: must be an http/],
      [{ SMTP_URL: 'http://mail' }, /^SMTP_URL: must be an smtp/],
      [{ SECRET_KEY: 'short' }, /^SECRET_KEY: must be at least 32 characters/],
      [{ TRUST_PROXY: 'yes please!' }, /^TRUST_PROXY: must be true, false/],
      [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: must be one of/],
    ];
    for (const [env, pattern] of cases) {
      const problems = problemsOf(env);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0]!, pattern);
    }
    assert.ok(!problemsOf({ SECRET_KEY: 'short' })[0]!.includes('short'), 'a secret is never echoed');
  });

  test('When settings are valid, then they are typed: https base URL marks cookies secure, proxy hops are numbers', () => {
    const c = loadConfig({
      DATA_DIR: tempDir(),
      PORT: '8080',
      BASE_URL: 'https://vendors.example.com/',
      DATABASE_URL: 'postgres://u:p@db:5432/oversight',
      TRUST_PROXY: '1',
      SECRET_KEY: 'x'.repeat(40),
    });
    assert.equal(c.port, 8080);
    assert.equal(c.baseUrl, 'https://vendors.example.com');
    assert.equal(c.secureCookies, true);
    assert.equal(c.trustProxy, 1);
    assert.deepEqual(c.database, { type: 'postgres', url: 'postgres://u:p@db:5432/oversight' });
  });

  test('When the portal starts with a bad value, then it stops with a message naming the variable', () => {
    const res = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, DATA_DIR: tempDir(), PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /Invalid configuration/);
    assert.match(res.stderr, /PORT: must be a whole number \(got "eighty"\)/);
  });
});
