import { type DataSource, type EntityManager, IsNull, MoreThan } from 'typeorm';
import { type Actor, diffFields, recordAudit } from '../audit/service';
import { type Clock, DAY, MINUTE } from '../clock';
import { ByIdReader } from '../db/rows';
import type { Transact } from '../db/data-source';
import { ConflictError, GoneError, NotFoundError, ValidationError } from '../errors';
import { passwordResetEmail } from '../mail/messages/password-reset';
import { userInviteEmail } from '../mail/messages/user-invite';
import { enqueueMail } from '../mail/outbox';
import { newToken, sha256Hex } from '../security/crypto';
import { type Role, ROLE_LABELS, SessionRecord, type TokenPurpose, User, UserToken } from './entities';
import { dummyPasswordHash, hashPassword, passwordProblem, verifyPassword } from './passwords';

/** 17.04(1): this many consecutive failures block sign-in for LOCKOUT_MS. */
export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MS = 15 * MINUTE;
const SETUP_TOKEN_TTL_MS = 7 * DAY;
const INVITE_TTL_MS = 7 * DAY;
const RESET_TTL_MS = 1 * DAY;

export interface AccountServiceDeps {
  ds: DataSource;
  transact: Transact;
  clock: Clock;
  mailKey: Buffer;
  baseUrl: string;
  /** Called after a commit that queued mail. */
  mailQueued: () => void;
  organizationName: string;
}

/** Why a login failed; shown to nobody (the page says the same thing for every reason). */
export type LoginFailure = 'unknown_email' | 'no_password' | 'inactive' | 'locked' | 'bad_password';

export class LoginFailed extends Error {
  constructor(readonly reason: LoginFailure) {
    super('login failed');
  }
}

export interface UserView {
  id: number;
  email: string;
  name: string;
  role: Role;
  roleLabel: string;
  active: boolean;
  invited: boolean;
  locked: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
}

/** Accounts: first-run setup, sign-in with lockout, invitations, roles, deactivation, passwords. */
export class AccountService {
  /** The session's user, read on every signed-in request (built once the database is open). */
  private userById: ByIdReader<User> | null = null;

  constructor(private readonly d: AccountServiceDeps) {}

  private get users() {
    return this.d.ds.getRepository(User);
  }

  /** The view of a user that leaves the service: never the hash. */
  present(u: User): UserView {
    const now = this.d.clock.now();
    return {
      id: u.id,
      email: u.email,
      name: u.name,
      role: u.role,
      roleLabel: ROLE_LABELS[u.role],
      active: u.active,
      invited: u.passwordHash === null,
      locked: u.lockedUntil !== null && u.lockedUntil > now,
      lastLoginAt: u.lastLoginAt,
      createdAt: u.createdAt,
    };
  }

  async hasUsers(): Promise<boolean> {
    return (await this.users.count({ take: 1 })) > 0;
  }

  /**
   * While no user exists, issues a one-time setup link (logged at start) for the first admin.
   * Returns null once the portal has users.
   */
  async issueSetupLink(): Promise<string | null> {
    return this.d.transact(async (m) => {
      if ((await m.count(User)) > 0) return null;
      const token = await this.insertToken(m, null, 'setup', SETUP_TOKEN_TTL_MS, null);
      return `${this.d.baseUrl}/setup?token=${token}`;
    });
  }

  /** Throws 404 for an unknown setup token and 410 for a used or expired one, or once users exist. */
  async checkSetupToken(token: string): Promise<void> {
    const row = await this.findToken(token, 'setup');
    if (!row) throw new NotFoundError('This setup link is not valid. The current link is printed in the server log at start.');
    if (row.usedAt || row.expiresAt <= this.d.clock.now() || (await this.hasUsers())) {
      throw new GoneError('This setup link has been used or has expired. Sign in, or restart the portal for a new link.');
    }
  }

  /** Creates the first administrator with the setup token; every other setup token dies with it. */
  async completeSetup(token: string, input: { email: string; name: string; password: string }, ip: string | null): Promise<User> {
    await this.checkSetupToken(token);
    const email = input.email.toLowerCase();
    const problem = passwordProblem(input.password, email);
    if (problem) throw new ValidationError({ password: `Password ${problem}.` });
    const passwordHash = await hashPassword(input.password);
    const user = await this.d.transact(async (m) => {
      const now = this.d.clock.now();
      const used = await m
        .createQueryBuilder()
        .update(UserToken)
        .set({ usedAt: now })
        .where('tokenHash = :h AND usedAt IS NULL', { h: sha256Hex(token) })
        .execute();
      if (used.affected !== 1 || (await m.count(User)) > 0) throw new GoneError('This setup link has already been used.');
      await m.update(UserToken, { purpose: 'setup', usedAt: IsNull() }, { usedAt: now });
      const created = await this.insertUser(m, { email, name: input.name, role: 'admin', passwordHash });
      await recordAudit(m, this.d.clock, { type: 'anonymous', id: null, label: email, ip }, {
        action: 'setup.first_admin',
        entityType: 'user',
        entityId: created.id,
        details: { email, role: 'admin' },
      });
      return created;
    });
    return user;
  }

  /**
   * Checks an email and password. Every failure throws the same LoginFailed to the route; five
   * consecutive failures lock the account for 15 minutes. Each attempt is audited.
   */
  async login(emailInput: string, password: string, ip: string | null): Promise<User> {
    const email = emailInput.trim().toLowerCase();
    const user = await this.users.findOne({ where: { email } });
    const now = this.d.clock.now();
    const actor: Actor = { type: user ? 'user' : 'anonymous', id: user?.id ?? null, label: email, ip };
    const failedEntry = (reason: LoginFailure) => ({
      action: 'auth.login_failed',
      entityType: user ? 'user' : undefined,
      entityId: user?.id,
      details: { reason },
    });
    const fail = async (reason: LoginFailure): Promise<never> => {
      await this.d.transact((m) => recordAudit(m, this.d.clock, actor, failedEntry(reason)));
      throw new LoginFailed(reason);
    };

    if (!user || !user.passwordHash) {
      await verifyPassword(password, await dummyPasswordHash());
      return fail(user ? 'no_password' : 'unknown_email');
    }
    const matches = await verifyPassword(password, user.passwordHash);
    if (!user.active) return fail('inactive');
    if (user.lockedUntil && user.lockedUntil > now) return fail('locked');
    if (!matches) {
      await this.d.transact(async (m) => {
        const fresh = await m.findOneByOrFail(User, { id: user.id });
        const count = fresh.failedLoginCount + 1;
        await recordAudit(m, this.d.clock, actor, failedEntry('bad_password'));
        if (count >= MAX_FAILED_LOGINS) {
          const until = new Date(now.getTime() + LOCKOUT_MS);
          await m.update(User, { id: user.id }, { failedLoginCount: 0, lockedUntil: until, updatedAt: now });
          await recordAudit(m, this.d.clock, actor, {
            action: 'auth.locked',
            entityType: 'user',
            entityId: user.id,
            details: { failures: count, until: until.toISOString() },
          });
        } else {
          await m.update(User, { id: user.id }, { failedLoginCount: count, updatedAt: now });
        }
      });
      throw new LoginFailed('bad_password');
    }
    return this.d.transact(async (m) => {
      await m.update(User, { id: user.id }, { failedLoginCount: 0, lockedUntil: null, lastLoginAt: now, updatedAt: now });
      await recordAudit(m, this.d.clock, actor, { action: 'auth.login', entityType: 'user', entityId: user.id });
      return m.findOneByOrFail(User, { id: user.id });
    });
  }

  /** Records a sign-out. */
  async logout(actor: Actor): Promise<void> {
    await this.d.transact((m) => recordAudit(m, this.d.clock, actor, { action: 'auth.logout', entityType: 'user', entityId: actor.id ?? undefined }));
  }

  /** The user behind a session, or null if they no longer exist or were deactivated. */
  async activeUser(id: number): Promise<User | null> {
    this.userById ??= new ByIdReader(this.d.ds, User);
    const u = await this.userById.find(id);
    return u && u.active ? u : null;
  }

  async getUser(id: number): Promise<User> {
    const u = await this.users.findOne({ where: { id } });
    if (!u) throw new NotFoundError('No such user.');
    return u;
  }

  /** Users ordered by name, one page at a time, optionally filtered by name or email. */
  async listUsers(opts: { q?: string; page: number; pageSize: number }): Promise<{ users: User[]; hasMore: boolean }> {
    const qb = this.users.createQueryBuilder('u');
    if (opts.q) {
      qb.where("(LOWER(u.name) LIKE :q ESCAPE '\\' OR u.email LIKE :q ESCAPE '\\')", {
        q: `%${opts.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
      });
    }
    const rows = await qb
      .orderBy('LOWER(u.name)', 'ASC')
      .addOrderBy('u.id', 'ASC')
      .offset((opts.page - 1) * opts.pageSize)
      .limit(opts.pageSize + 1)
      .getMany();
    return { users: rows.slice(0, opts.pageSize), hasMore: rows.length > opts.pageSize };
  }

  /**
   * Creates a user without a password and a one-time link to set it. With `sendEmail`, the
   * invitation is queued in the same transaction. The link is returned so it can be shown too.
   */
  async inviteUser(
    actor: Actor,
    input: { email: string; name: string; role: Role },
    opts: { sendEmail: boolean },
  ): Promise<{ user: User; link: string; expiresAt: Date }> {
    const email = input.email.trim().toLowerCase();
    const result = await this.d.transact(async (m) => {
      if ((await m.count(User, { where: { email } })) > 0) {
        throw new ConflictError('A user with this email already exists.', { email: 'A user with this email already exists.' });
      }
      const user = await this.insertUser(m, { email, name: input.name.trim(), role: input.role, passwordHash: null });
      const token = await this.insertToken(m, user.id, 'invite', INVITE_TTL_MS, actor.id);
      const link = `${this.d.baseUrl}/set-password/${token}`;
      const expiresAt = new Date(this.d.clock.now().getTime() + INVITE_TTL_MS);
      if (opts.sendEmail) {
        const mail = await userInviteEmail({
          to: email,
          name: user.name,
          invitedBy: actor.type === 'user' ? actor.label : 'An administrator',
          role: ROLE_LABELS[user.role],
          link,
          expiresAt,
          organizationName: this.d.organizationName,
        });
        await enqueueMail(m, this.d.clock, this.d.mailKey, mail);
      }
      await recordAudit(m, this.d.clock, actor, {
        action: 'user.invited',
        entityType: 'user',
        entityId: user.id,
        details: { email, name: user.name, role: user.role, emailed: opts.sendEmail },
      });
      return { user, link, expiresAt };
    });
    if (opts.sendEmail) this.d.mailQueued();
    return result;
  }

  /** Issues a fresh password link for an existing user (earlier unused links stop working). */
  async issuePasswordLink(actor: Actor, userId: number): Promise<{ link: string; expiresAt: Date }> {
    const result = await this.d.transact(async (m) => {
      const user = await m.findOneBy(User, { id: userId });
      if (!user) throw new NotFoundError('No such user.');
      if (!user.active) throw new ConflictError('Reactivate this user before sending a password link.');
      const purpose: TokenPurpose = user.passwordHash ? 'reset' : 'invite';
      const ttl = purpose === 'reset' ? RESET_TTL_MS : INVITE_TTL_MS;
      await this.revokeTokens(m, user.id);
      const token = await this.insertToken(m, user.id, purpose, ttl, actor.id);
      const link = `${this.d.baseUrl}/set-password/${token}`;
      const expiresAt = new Date(this.d.clock.now().getTime() + ttl);
      const organizationName = this.d.organizationName;
      const mail =
        purpose === 'reset'
          ? await passwordResetEmail({ to: user.email, name: user.name, issuedBy: actor.label, link, expiresAt, organizationName })
          : await userInviteEmail({ to: user.email, name: user.name, invitedBy: actor.label, role: ROLE_LABELS[user.role], link, expiresAt, organizationName });
      await enqueueMail(m, this.d.clock, this.d.mailKey, mail);
      await recordAudit(m, this.d.clock, actor, { action: `user.${purpose}_link_issued`, entityType: 'user', entityId: user.id });
      return { link, expiresAt };
    });
    this.d.mailQueued();
    return result;
  }

  /** The user a password link belongs to; 404 unknown, 410 used, expired or deactivated. */
  async checkPasswordToken(token: string): Promise<{ user: User; purpose: TokenPurpose }> {
    const row = await this.findToken(token);
    if (!row || row.purpose === 'setup' || row.userId === null) throw new NotFoundError('This link is not valid. Ask an administrator for a new one.');
    const user = await this.users.findOne({ where: { id: row.userId } });
    if (!user || row.usedAt || row.expiresAt <= this.d.clock.now() || !user.active) {
      throw new GoneError('This link has been used or has expired. Ask an administrator for a new one.');
    }
    return { user, purpose: row.purpose };
  }

  /** Sets the password through a one-time link; ends any sessions the user had. */
  async setPasswordWithToken(token: string, password: string, ip: string | null): Promise<User> {
    const { user, purpose } = await this.checkPasswordToken(token);
    const problem = passwordProblem(password, user.email);
    if (problem) throw new ValidationError({ password: `Password ${problem}.` });
    const passwordHash = await hashPassword(password);
    return this.d.transact(async (m) => {
      const now = this.d.clock.now();
      const used = await m
        .createQueryBuilder()
        .update(UserToken)
        .set({ usedAt: now })
        .where('tokenHash = :h AND usedAt IS NULL', { h: sha256Hex(token) })
        .execute();
      if (used.affected !== 1) throw new GoneError('This link has already been used.');
      await m.update(User, { id: user.id }, { passwordHash, passwordChangedAt: now, failedLoginCount: 0, lockedUntil: null, updatedAt: now });
      await m.delete(SessionRecord, { userId: user.id });
      await recordAudit(m, this.d.clock, { type: 'user', id: user.id, label: user.email, ip }, {
        action: purpose === 'invite' ? 'user.activated' : 'user.password_reset',
        entityType: 'user',
        entityId: user.id,
      });
      return m.findOneByOrFail(User, { id: user.id });
    });
  }

  /** Changes one's own password after checking the current one; other sessions of the user end. */
  async changePassword(actor: Actor, input: { currentPassword: string; newPassword: string }, keepSessionHash: string | null): Promise<void> {
    if (actor.id === null) throw new NotFoundError();
    const user = await this.getUser(actor.id);
    if (!user.passwordHash || !(await verifyPassword(input.currentPassword, user.passwordHash))) {
      throw new ValidationError({ currentPassword: 'This is not your current password.' });
    }
    const problem = passwordProblem(input.newPassword, user.email);
    if (problem) throw new ValidationError({ newPassword: `Password ${problem}.` });
    if (await verifyPassword(input.newPassword, user.passwordHash)) {
      throw new ValidationError({ newPassword: 'Choose a password different from the current one.' });
    }
    const passwordHash = await hashPassword(input.newPassword);
    await this.d.transact(async (m) => {
      const now = this.d.clock.now();
      await m.update(User, { id: user.id }, { passwordHash, passwordChangedAt: now, updatedAt: now });
      const qb = m.createQueryBuilder().delete().from(SessionRecord).where('userId = :id', { id: user.id });
      if (keepSessionHash) qb.andWhere('id <> :keep', { keep: keepSessionHash });
      await qb.execute();
      await recordAudit(m, this.d.clock, actor, { action: 'user.password_changed', entityType: 'user', entityId: user.id });
    });
  }

  /** Changes a user's name or role. The last active admin cannot lose the admin role. */
  async updateUser(actor: Actor, userId: number, input: { name: string; role: Role }): Promise<User> {
    return this.d.transact(async (m) => {
      const user = await m.findOneBy(User, { id: userId });
      if (!user) throw new NotFoundError('No such user.');
      if (user.role === 'admin' && input.role !== 'admin' && user.active) await this.assertAnotherAdmin(m, user.id);
      const changes = diffFields(user, { name: input.name.trim(), role: input.role }, ['name', 'role']);
      if (Object.keys(changes).length === 0) return user;
      await m.update(User, { id: user.id }, { name: input.name.trim(), role: input.role, updatedAt: this.d.clock.now() });
      await recordAudit(m, this.d.clock, actor, { action: 'user.updated', entityType: 'user', entityId: user.id, changes });
      return m.findOneByOrFail(User, { id: user.id });
    });
  }

  /**
   * Deactivates a user at once (17.03(2)(e)): their sessions and open links end in the same
   * transaction. The last active admin cannot be deactivated.
   */
  async setActive(actor: Actor, userId: number, active: boolean): Promise<User> {
    return this.d.transact(async (m) => {
      const user = await m.findOneBy(User, { id: userId });
      if (!user) throw new NotFoundError('No such user.');
      if (user.active === active) return user;
      if (!active && user.role === 'admin') await this.assertAnotherAdmin(m, user.id);
      const now = this.d.clock.now();
      await m.update(User, { id: user.id }, { active, updatedAt: now, failedLoginCount: 0, lockedUntil: null });
      let sessionsEnded = 0;
      if (!active) {
        sessionsEnded = (await m.delete(SessionRecord, { userId: user.id })).affected ?? 0;
        await this.revokeTokens(m, user.id);
      }
      await recordAudit(m, this.d.clock, actor, {
        action: active ? 'user.reactivated' : 'user.deactivated',
        entityType: 'user',
        entityId: user.id,
        changes: { active: [!active, active] },
        details: active ? undefined : { sessionsEnded },
      });
      return m.findOneByOrFail(User, { id: user.id });
    });
  }

  /** Lifts a lockout before its 15 minutes are up. */
  async unlock(actor: Actor, userId: number): Promise<void> {
    await this.d.transact(async (m) => {
      const user = await m.findOneBy(User, { id: userId });
      if (!user) throw new NotFoundError('No such user.');
      await m.update(User, { id: user.id }, { failedLoginCount: 0, lockedUntil: null, updatedAt: this.d.clock.now() });
      await recordAudit(m, this.d.clock, actor, { action: 'user.unlocked', entityType: 'user', entityId: user.id });
    });
  }

  private async assertAnotherAdmin(m: EntityManager, exceptId: number): Promise<void> {
    const others = await m
      .createQueryBuilder(User, 'u')
      .where("u.role = 'admin' AND u.active = :t AND u.id <> :id", { t: true, id: exceptId })
      .getCount();
    if (others === 0) throw new ConflictError('The portal needs at least one active administrator; appoint another first.');
  }

  private async insertUser(m: EntityManager, input: { email: string; name: string; role: Role; passwordHash: string | null }): Promise<User> {
    const now = this.d.clock.now();
    const user = m.create(User, {
      ...input,
      active: true,
      failedLoginCount: 0,
      lockedUntil: null,
      lastLoginAt: null,
      passwordChangedAt: input.passwordHash ? now : null,
      createdAt: now,
      updatedAt: now,
    });
    return m.save(user);
  }

  private async insertToken(m: EntityManager, userId: number | null, purpose: TokenPurpose, ttlMs: number, createdById: number | null): Promise<string> {
    const token = newToken();
    const now = this.d.clock.now();
    await m.insert(UserToken, {
      userId,
      purpose,
      tokenHash: sha256Hex(token),
      expiresAt: new Date(now.getTime() + ttlMs),
      usedAt: null,
      createdById,
      createdAt: now,
    });
    return token;
  }

  private async revokeTokens(m: EntityManager, userId: number): Promise<void> {
    await m.update(UserToken, { userId, usedAt: IsNull(), expiresAt: MoreThan(this.d.clock.now()) }, { usedAt: this.d.clock.now() });
  }

  private async findToken(token: string, purpose?: TokenPurpose): Promise<UserToken | null> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
    const row = await this.d.ds.getRepository(UserToken).findOne({ where: { tokenHash: sha256Hex(token) } });
    return row && (!purpose || row.purpose === purpose) ? row : null;
  }
}
