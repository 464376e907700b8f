import { Router, type Request } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Context } from '../context';
import { NotFoundError } from '../errors';
import { requireRole, requireUser } from '../http/auth';
import { handleForm, pageNumber, parseInput } from '../http/forms';
import { refusalReporter, type RateLimitOptions } from '../http/rate-limit';
import { actorOf, clientIp, flash, safeReturnTo } from '../http/request';
import { ROLE_LABELS, ROLES } from './entities';
import { apiTokenSchema, changePasswordSchema, inviteSchema, loginSchema, setPasswordSchema, setupSchema, updateUserSchema } from './schema';
import { LoginFailed, LOCKOUT_MS, MAX_FAILED_LOGINS } from './service';
import { sha256Hex } from '../security/crypto';

const LOGIN_FAILED_MESSAGE =
  `The email or password is not right, or this account cannot sign in now. After ${MAX_FAILED_LOGINS} failed attempts ` +
  `sign-in is paused for ${LOCKOUT_MS / 60000} minutes.`;

/** Options for the per-address limit on sign-in and link forms. */
export type AuthRateLimit = RateLimitOptions;

/** Renews the session id and signs the user in (the id changes so a planted cookie is useless). */
async function signIn(req: Request, userId: number, now: number): Promise<void> {
  await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
  req.session.userId = userId;
  req.session.authenticatedAt = now;
  req.session.lastSeenAt = now;
  await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}

function sessionHash(req: Request): string {
  return sha256Hex(req.sessionID);
}

/** Sign-in and sign-out, first-run setup, password links, and one's own account. */
export function authRoutes(ctx: Context, limits: AuthRateLimit): Router {
  const r = Router();
  const { accounts, clock } = ctx;
  const reportRefusal = refusalReporter(ctx, 'sign-in and password forms');
  const limiter = rateLimit({
    windowMs: limits.windowMs,
    limit: limits.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: async (req, res) => {
      await reportRefusal(req);
      res.status(429).format({
        html: () => res.render('errors/error', { title: 'Too many attempts', status: 429, message: 'Too many attempts from your address. Wait a few minutes and try again.', fields: {} }),
        json: () => res.json({ error: { status: 429, message: 'Too many attempts from your address. Wait a few minutes and try again.' } }),
      });
    },
  });

  r.get('/login', async (req, res) => {
    if (req.user) return res.redirect(303, safeReturnTo(req.query.returnTo));
    if (!(await accounts.hasUsers())) {
      return res.render('accounts/no-users', { title: 'Finish setting up Oversight' });
    }
    res.render('accounts/login', { title: 'Sign in', values: { returnTo: safeReturnTo(req.query.returnTo) }, errors: {} });
  });

  r.post('/login', limiter, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    await handleForm(res, 'accounts/login', { title: 'Sign in' }, body, async () => {
      const input = parseInput(loginSchema, body);
      let user;
      try {
        user = await accounts.login(input.email, input.password, clientIp(req));
      } catch (err) {
        if (!(err instanceof LoginFailed)) throw err;
        res.status(401).render('accounts/login', {
          title: 'Sign in',
          values: { email: input.email, returnTo: safeReturnTo(input.returnTo) },
          errors: { email: LOGIN_FAILED_MESSAGE },
          errorMessage: LOGIN_FAILED_MESSAGE,
        });
        return;
      }
      await signIn(req, user.id, clock.now().getTime());
      res.redirect(303, safeReturnTo(input.returnTo));
    });
  });

  r.post('/logout', async (req, res) => {
    if (req.user) await accounts.logout(actorOf(req));
    await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
    flash(req, 'success', 'You have signed out.');
    res.redirect(303, '/login');
  });

  r.get('/setup', async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    if (!token) throw new NotFoundError('Open the setup link printed in the server log when the portal started.');
    await accounts.checkSetupToken(token);
    res.render('accounts/setup', { title: 'Create the first administrator', token, values: {}, errors: {} });
  });

  r.post('/setup', limiter, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const token = typeof body.token === 'string' ? body.token : '';
    await accounts.checkSetupToken(token);
    await handleForm(res, 'accounts/setup', { title: 'Create the first administrator', token }, body, async () => {
      const input = parseInput(setupSchema, body);
      const user = await accounts.completeSetup(token, input, clientIp(req));
      await signIn(req, user.id, clock.now().getTime());
      flash(req, 'success', 'Welcome to Oversight. Your administrator account is ready.');
      res.redirect(303, '/');
    });
  });

  r.get('/set-password/:token', async (req, res) => {
    const { user, purpose } = await accounts.checkPasswordToken(String(req.params.token));
    res.render('accounts/set-password', { title: purpose === 'invite' ? 'Choose your password' : 'Set a new password', email: user.email, values: {}, errors: {} });
  });

  r.post('/set-password/:token', limiter, async (req, res) => {
    const { user, purpose } = await accounts.checkPasswordToken(String(req.params.token));
    const body = req.body as Record<string, unknown>;
    const locals = { title: purpose === 'invite' ? 'Choose your password' : 'Set a new password', email: user.email };
    await handleForm(res, 'accounts/set-password', locals, body, async () => {
      const input = parseInput(setPasswordSchema, body);
      await accounts.setPasswordWithToken(String(req.params.token), input.password, clientIp(req));
      await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
      flash(req, 'success', 'Your password is set. Sign in with it now.');
      res.redirect(303, '/login');
    });
  });

  r.get('/account', requireUser(), (_req, res) => {
    res.render('accounts/account', { title: 'Your account' });
  });

  r.get('/account/password', requireUser(), (_req, res) => {
    res.render('accounts/change-password', { title: 'Change your password', values: {}, errors: {} });
  });

  r.post('/account/password', requireUser(), async (req, res) => {
    const body = req.body as Record<string, unknown>;
    await handleForm(res, 'accounts/change-password', { title: 'Change your password' }, body, async () => {
      const input = parseInput(changePasswordSchema, body);
      await accounts.changePassword(actorOf(req), input, sessionHash(req));
      flash(req, 'success', 'Your password has been changed. Other sessions of yours have been signed out.');
      res.redirect(303, '/account');
    });
  });

  r.get('/account/tokens', requireUser(), async (req, res) => {
    res.render('accounts/tokens', { title: 'API tokens', tokens: await ctx.apiTokens.list(req.user!.id), created: null, values: {}, errors: {} });
  });

  r.post('/account/tokens', requireUser(), async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const tokens = await ctx.apiTokens.list(req.user!.id);
    await handleForm(res, 'accounts/tokens', { title: 'API tokens', tokens, created: null }, body, async () => {
      const input = parseInput(apiTokenSchema, body);
      const { token } = await ctx.apiTokens.create(actorOf(req), input.name);
      res.status(201).render('accounts/tokens', { title: 'API tokens', tokens: await ctx.apiTokens.list(req.user!.id), created: { name: input.name, token }, values: {}, errors: {} });
    });
  });

  r.post('/account/tokens/:tokenId/revoke', requireUser(), async (req, res) => {
    const raw = String(req.params.tokenId);
    if (!/^\d{1,9}$/.test(raw)) throw new NotFoundError('No such active token.');
    await ctx.apiTokens.revoke(actorOf(req), Number(raw));
    flash(req, 'success', 'The token was revoked; it stops working at once.');
    res.redirect(303, '/account/tokens');
  });

  return r;
}

const PAGE_SIZE = 50;

/** Admin pages for users: invite, change role, deactivate, unlock, issue a password link. */
export function userAdminRoutes(ctx: Context): Router {
  const r = Router();
  const { accounts } = ctx;
  r.use(requireRole('admin'));
  const roleOptions = ROLES.map((value) => ({ value, label: ROLE_LABELS[value] }));

  r.get('/', async (req, res) => {
    const page = pageNumber(req.query.page);
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 200) : '';
    const { users, hasMore } = await accounts.listUsers({ q, page, pageSize: PAGE_SIZE });
    res.render('admin/users', { title: 'Users', users: users.map((u) => accounts.present(u)), q, page, hasMore });
  });

  r.get('/new', (_req, res) => {
    res.render('admin/user-new', { title: 'Invite a user', roleOptions, values: { role: 'viewer' }, errors: {} });
  });

  r.post('/new', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    await handleForm(res, 'admin/user-new', { title: 'Invite a user', roleOptions }, body, async () => {
      const input = parseInput(inviteSchema, body);
      const { user, link, expiresAt } = await accounts.inviteUser(actorOf(req), input, { sendEmail: true });
      res.status(201).render('admin/user-link', { title: 'Invitation sent', user: accounts.present(user), link, expiresAt, kind: 'invite' });
    });
  });

  const userId = (raw: string): number => {
    if (!/^\d{1,9}$/.test(raw)) throw new NotFoundError('No such user.');
    return Number(raw);
  };

  r.get('/:id', async (req, res) => {
    const user = await accounts.getUser(userId(req.params.id));
    res.render('admin/user-edit', { title: user.name, user: accounts.present(user), roleOptions, values: { name: user.name, role: user.role }, errors: {} });
  });

  r.post('/:id', async (req, res) => {
    const user = await accounts.getUser(userId(req.params.id));
    const body = req.body as Record<string, unknown>;
    await handleForm(res, 'admin/user-edit', { title: user.name, user: accounts.present(user), roleOptions }, body, async () => {
      const input = parseInput(updateUserSchema, body);
      await accounts.updateUser(actorOf(req), user.id, input);
      flash(req, 'success', `Saved ${input.name}.`);
      res.redirect(303, `/admin/users/${user.id}`);
    });
  });

  r.post('/:id/deactivate', async (req, res) => {
    const user = await accounts.setActive(actorOf(req), userId(req.params.id), false);
    flash(req, 'success', `${user.name} is deactivated and signed out everywhere.`);
    res.redirect(303, `/admin/users/${user.id}`);
  });

  r.post('/:id/reactivate', async (req, res) => {
    const user = await accounts.setActive(actorOf(req), userId(req.params.id), true);
    flash(req, 'success', `${user.name} can sign in again.`);
    res.redirect(303, `/admin/users/${user.id}`);
  });

  r.post('/:id/unlock', async (req, res) => {
    const id = userId(req.params.id);
    await accounts.unlock(actorOf(req), id);
    flash(req, 'success', 'Sign-in is unblocked.');
    res.redirect(303, `/admin/users/${id}`);
  });

  r.post('/:id/password-link', async (req, res) => {
    const user = await accounts.getUser(userId(req.params.id));
    const { link, expiresAt } = await accounts.issuePasswordLink(actorOf(req), user.id);
    res.render('admin/user-link', { title: 'Password link issued', user: accounts.present(user), link, expiresAt, kind: user.passwordHash ? 'reset' : 'invite' });
  });

  return r;
}
