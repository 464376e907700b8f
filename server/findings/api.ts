import { Router } from 'express';
import type { Context } from '../context';
import { NotFoundError } from '../errors';
import { requireRole } from '../http/auth';
import { pageNumber, parseInput, sentFields } from '../http/forms';
import { actorOf } from '../http/request';
import { pageSizeSchema } from '../vendors/api';
import { findingJson } from './present';
import { acceptRiskSchema, apiCreateFindingSchema, findingListQuerySchema, findingStatusSchema, patchFindingSchema, toFindingFilter } from './schema';

/** Reviewers and admins decide on findings; every role reads them. */
const deciders = requireRole('admin', 'reviewer');

/** The status-change and risk-acceptance bodies of the API: unknown fields are refused. */
export const apiFindingStatusSchema = findingStatusSchema.strict();
export const apiAcceptRiskSchema = acceptRiskSchema.strict();

function id(raw: string | string[] | undefined, what: string): number {
  const s = String(raw);
  if (!/^\d{1,9}$/.test(s)) throw new NotFoundError(`No such ${what}.`);
  return Number(s);
}


/** /api/v1/findings and /api/v1/vendors/{id}/findings: findings for scripts and other systems; see openapi.ts. */
export function findingApi(ctx: Context): Router {
  const r = Router();
  const { findings, clock } = ctx;

  r.get('/findings', requireRole(), async (req, res) => {
    const query = parseInput(findingListQuerySchema, req.query);
    const page = pageNumber(req.query.page);
    const pageSize = parseInput(pageSizeSchema, req.query.pageSize);
    const { findings: rows, total } = await findings.list(toFindingFilter(query), page, pageSize);
    const now = clock.now();
    res.json({ data: rows.map((f) => findingJson(f, now)), page, pageSize, total });
  });

  r.post('/vendors/:id/findings', deciders, async (req, res) => {
    const input = parseInput(apiCreateFindingSchema, req.body);
    const f = await findings.create(actorOf(req), id(req.params.id, 'vendor'), input);
    res.status(201).location(`/api/v1/findings/${f.id}`).json(findingJson(f, clock.now()));
  });

  r.get('/findings/:id', requireRole(), async (req, res) => {
    const f = await findings.get(id(req.params.id, 'finding'));
    res.json(findingJson(f, clock.now()));
  });

  r.patch('/findings/:id', deciders, async (req, res) => {
    const findingId = id(req.params.id, 'finding');
    await findings.get(findingId);
    const changes = sentFields(parseInput(patchFindingSchema, req.body), req.body);
    const f = await findings.update(actorOf(req), findingId, changes);
    res.json(findingJson(f, clock.now()));
  });

  r.post('/findings/:id/status', deciders, async (req, res) => {
    const input = parseInput(apiFindingStatusSchema, req.body);
    const f = await findings.transition(actorOf(req), id(req.params.id, 'finding'), input.to, input);
    res.json(findingJson(f, clock.now()));
  });

  r.post('/findings/:id/accept-risk', deciders, async (req, res) => {
    const input = parseInput(apiAcceptRiskSchema, req.body);
    const f = await findings.acceptRisk(actorOf(req), id(req.params.id, 'finding'), input.reason, input.expiresOn);
    res.json(findingJson(f, clock.now()));
  });

  return r;
}
