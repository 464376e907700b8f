import express, { type Express } from 'express';
import helmet from 'helmet';
import { authRoutes, type AuthRateLimit, userAdminRoutes } from './accounts/routes';
import { apiRoutes } from './api/routes';
import { auditRoutes } from './audit/routes';
import { certificationPortalRoutes } from './certifications/portal-routes';
import { certificationRoutes } from './certifications/routes';
import { MINUTE } from './clock';
import type { Context } from './context';
import { contractRoutes } from './contracts/routes';
import { findingRoutes } from './findings/routes';
import { healthRoutes } from './health/routes';
import { homeRoutes } from './home/routes';
import { loadUser } from './http/auth';
import { csrfLocals, csrfProtection } from './http/csrf';
import { errorHandler, notFound } from './http/errors';
import { failedLinkLimiter, type RateLimitOptions, SECRET_LINK_PATHS } from './http/rate-limit';
import { navigationFor } from './http/navigation';
import { requestLog } from './http/request-log';
import { refuseNul } from './http/text';
import { saveSessionBeforeRedirect, sessionMiddleware, sessionTimeouts } from './http/session';
import { formatDate, formatDateTime } from './http/view-helpers';
import { viewEngine } from './http/views';
import { outboxRoutes } from './mail/routes';
import { PUBLIC_DIR, VIEWS_DIR } from './paths';
import { portalRoutes } from './questionnaires/portal-routes';
import { questionnaireRoutes } from './questionnaires/routes';
import { calendarFeedRoutes, reminderRoutes } from './reminders/routes';
import { reportRoutes } from './reports/routes';
import { reviewRoutes } from './reviews/routes';
import { vendorRoutes } from './vendors/routes';

export interface AppOptions {
  /** Per-address limit on the sign-in, setup and password-link forms. */
  authRateLimit?: AuthRateLimit;
  /** Largest accepted form or JSON body. */
  bodyLimit?: string;
  /** Per-address limit on failed look-ups of links and tokens (vendor links, calendar feeds, password links, API tokens). */
  linkRateLimit?: RateLimitOptions;
  /**
   * Adds GET /__bench/bare, a route that does no work, as the benchmark's ceiling. Only the
   * benchmark sets it; the portal itself never exposes the route.
   */
  benchBareRoute?: boolean;
}

/** Builds the Express app on a context. It does not listen and holds no globals, so tests use it directly. */
export function createApp(ctx: Context, options: AppOptions = {}): Express {
  const { config, logger, clock } = ctx;
  const app = express();
  app.disable('x-powered-by');
  // Pages and API answers are never cached (Cache-Control: no-store below), so an ETag computed over
  // every body would go unused; static assets keep theirs (express.static sets its own).
  app.disable('etag');
  app.set('trust proxy', config.trustProxy);
  app.set('views', VIEWS_DIR);
  app.set('view engine', 'ejs');
  app.set('view cache', true);
  app.engine('ejs', viewEngine(VIEWS_DIR));
  Object.assign(app.locals, {
    currentUser: null,
    nav: [],
    takeFlash: () => [],
    csrf: () => '',
    formatDate,
    formatDateTime,
    values: {},
    errors: {},
  });

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          ...(config.secureCookies ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      strictTransportSecurity: config.secureCookies ? { maxAge: 31536000, includeSubDomains: true } : false,
      referrerPolicy: { policy: 'no-referrer' },
      // As frame-ancestors 'none', for browsers that only read the older header.
      xFrameOptions: { action: 'deny' },
    }),
  );
  app.use(requestLog(logger));
  app.use('/assets', express.static(PUBLIC_DIR, { index: false, maxAge: '1h', fallthrough: true }));
  // Browsers ask for /favicon.ico on their own; answer it without a session.
  app.get('/favicon.ico', (_req, res) => res.redirect(301, '/assets/favicon.svg'));
  app.use(healthRoutes(ctx));
  if (options.benchBareRoute) app.get('/__bench/bare', (_req, res) => res.type('text/plain').send('ok'));

  const limit = options.bodyLimit ?? '200kb';
  // Nothing the portal answers from here on (pages, vendor links, API) may be kept by a cache.
  app.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  app.use(SECRET_LINK_PATHS, failedLinkLimiter(ctx, options.linkRateLimit ?? { windowMs: 15 * MINUTE, limit: 30 }));
  app.use('/api/v1', apiRoutes(ctx, limit));
  app.use('/q', portalRoutes(ctx));
  app.use('/c', certificationPortalRoutes(ctx));
  app.use(calendarFeedRoutes(ctx));
  app.use(express.urlencoded({ extended: false, limit, parameterLimit: 1000 }));
  app.use(express.json({ limit }));
  app.use(refuseNul);
  app.use(sessionMiddleware(config, ctx.sessions));
  app.use(saveSessionBeforeRedirect());
  app.use(sessionTimeouts(clock));
  app.use(loadUser(ctx.accounts));
  app.use(csrfLocals);
  app.use((req, res, next) => {
    res.locals.path = req.path;
    res.locals.nav = req.user ? navigationFor(req.user.role, req.path) : [];
    res.locals.takeFlash = () => {
      const messages = req.session?.flash ?? [];
      if (req.session?.flash) delete req.session.flash;
      return messages;
    };
    next();
  });
  app.use(csrfProtection);

  app.use(authRoutes(ctx, options.authRateLimit ?? { windowMs: 15 * MINUTE, limit: 30 }));
  app.use(homeRoutes(ctx));
  app.use(questionnaireRoutes(ctx));
  app.use(reviewRoutes(ctx));
  app.use(findingRoutes(ctx));
  app.use(contractRoutes(ctx));
  app.use(certificationRoutes(ctx));
  app.use(reminderRoutes(ctx));
  app.use(reportRoutes(ctx));
  app.use('/vendors', vendorRoutes(ctx));
  app.use('/admin/users', userAdminRoutes(ctx));
  app.use('/admin/audit', auditRoutes(ctx));
  app.use('/admin/outbox', outboxRoutes(ctx));

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
