import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import type { Role } from '../../server/accounts/entities';
import { systemActor } from '../../server/audit/service';
import type { NewVendor } from '../../server/vendors/service';
import type { TestApp } from './app';

export type Agent = ReturnType<typeof request.agent>;

export const GOOD_PASSWORD = 'plum orchard 42 quietly';

/** The CSRF token in a page's forms. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  assert.ok(m, 'page has a CSRF field');
  return m[1]!;
}

/** Fetches a page with the agent and returns its CSRF token. */
export async function tokenFor(agent: Agent, pagePath: string): Promise<string> {
  const res = await agent.get(pagePath);
  assert.equal(res.status, 200, `GET ${pagePath} should answer 200, got ${res.status}`);
  return csrfFrom(res.text);
}

/** Posts a form with a fresh CSRF token taken from `pagePath`. */
export async function submit(agent: Agent, pagePath: string, action: string, fields: Record<string, string>) {
  const _csrf = await tokenFor(agent, pagePath);
  return agent.post(action).type('form').send({ ...fields, _csrf });
}

/** Signs in through the login form and returns the agent holding the session cookie. */
export async function signIn(app: Express, email: string, password = GOOD_PASSWORD): Promise<Agent> {
  const agent = request.agent(app);
  const res = await submit(agent, '/login', '/login', { email, password });
  assert.equal(res.status, 303, `sign-in of ${email} should redirect, got ${res.status}: ${res.text.slice(0, 300)}`);
  return agent;
}

let seq = 0;

/** Factory: a user with a role and a password, created through the service as an admin would. */
export async function makeUser(t: TestApp, role: Role, overrides: { email?: string; name?: string; password?: string } = {}) {
  seq += 1;
  const email = overrides.email ?? `${role}${seq}@example.com`;
  const { user, link } = await t.ctx.accounts.inviteUser(systemActor('test'), { email, name: overrides.name ?? `Test ${role} ${seq}`, role }, { sendEmail: false });
  const token = link.split('/').pop()!;
  await t.ctx.accounts.setPasswordWithToken(token, overrides.password ?? GOOD_PASSWORD, null);
  return { user, email, password: overrides.password ?? GOOD_PASSWORD };
}

/** Factory: a signed-in agent for a new user of the role. */
export async function signedIn(t: TestApp, role: Role) {
  const u = await makeUser(t, role);
  return { ...u, agent: await signIn(t.app, u.email, u.password) };
}

let vendorSeq = 0;

/** Factory: a vendor created through the service, in scope with a high tier unless told otherwise. */
export async function makeVendor(t: TestApp, overrides: Partial<NewVendor> = {}) {
  vendorSeq += 1;
  return t.ctx.vendors.create(systemActor('test'), {
    legalName: `Vendor ${vendorSeq} ${Math.random().toString(36).slice(2, 8)}`,
    status: 'prospect',
    piElements: ['ssn'],
    maResidents: 'yes',
    recordVolume: '1k_10k',
    accessModes: ['stores'],
    ...overrides,
  });
}
