import express, { Router } from 'express';
import { certificationApi } from '../certifications/api';
import type { Context } from '../context';
import { contractApi } from '../contracts/api';
import { findingApi } from '../findings/api';
import { notFound } from '../http/errors';
import { refuseNul } from '../http/text';
import { questionnaireApi } from '../questionnaires/api';
import { reviewApi } from '../reviews/api';
import { vendorApi } from '../vendors/api';
import { bearerAuth } from './auth';
import { openApiDocument } from './openapi';

/** /api/v1: JSON in and out, bearer tokens only (no session cookie, hence no CSRF). */
export function apiRoutes(ctx: Context, bodyLimit: string): Router {
  const r = Router();
  r.use((req, _res, next) => {
    // Errors from here on are answered as JSON whatever the client's Accept header says.
    req.headers.accept = 'application/json';
    next();
  });
  r.use(express.json({ limit: bodyLimit }));
  r.use(refuseNul);
  const doc = openApiDocument(ctx.config.baseUrl);
  r.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  r.use(bearerAuth(ctx.apiTokens));
  r.use(vendorApi(ctx));
  r.use(questionnaireApi(ctx));
  r.use(reviewApi(ctx));
  r.use(findingApi(ctx));
  r.use(contractApi(ctx));
  r.use(certificationApi(ctx));
  r.use(notFound);
  return r;
}
