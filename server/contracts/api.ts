import { type Request, type RequestHandler, Router } from 'express';
import multer from 'multer';
import { z } from 'zod';
import type { Context } from '../context';
import { NotFoundError, ValidationError } from '../errors';
import { requireRole } from '../http/auth';
import { pageNumber, parseInput, sentFields } from '../http/forms';
import { actorOf } from '../http/request';
import { parsedWithoutNul } from '../http/text';
import { pageSizeSchema } from '../vendors/api';
import { coveragePercent } from './coverage';
import { amendmentJson, contractJson, coverageJson, fileJson } from './present';
import {
  amendmentListQuerySchema,
  amendmentStatusSchema,
  apiClauseReviewSchema,
  apiCreateContractSchema,
  apiOpenAmendmentSchema,
  commentSchema,
  contractListQuerySchema,
  matrixQuerySchema,
  patchAmendmentSchema,
  patchContractSchema,
} from './schema';
import type { Upload } from './service';

/** Legal and admins write; every role reads. */
const editors = requireRole('admin', 'legal');

/** The API bodies of a status change and a comment: unknown fields are refused. */
export const apiAmendmentStatusSchema = amendmentStatusSchema.strict();
export const apiCommentSchema = commentSchema.strict();

/** The section references of an execution, sent as a JSON object (amendment item id -> reference) in a multipart field. */
export const executeReferencesSchema = z.record(z.string().regex(/^\d{1,9}$/, 'keys must be item ids'), z.string().max(100, 'a reference must be at most 100 characters'), { error: 'references must be a JSON object of item id -> section reference.' });

function id(raw: string | string[] | undefined, what: string): number {
  const s = String(raw);
  if (!/^\d{1,9}$/.test(s)) throw new NotFoundError(`No such ${what}.`);
  return Number(s);
}

/** /api/v1 contracts, clause coverage and amendment requests for scripts and other systems; see openapi.ts. */
export function contractApi(ctx: Context): Router {
  const r = Router();
  const { contracts, amendments, clock } = ctx;
  const upload = (field: string): RequestHandler =>
    parsedWithoutNul(
      multer({ storage: multer.memoryStorage(), limits: { fileSize: ctx.config.evidence.maxFileBytes, files: 1, fields: 5, parts: 7, fieldSize: 50_000, headerPairs: 100 } }).single(field),
    );
  const fileOf = (req: Request): Upload | null => (req.file ? { originalName: req.file.originalname, buffer: req.file.buffer } : null);

  const full = async (contractId: number) => {
    const c = await contracts.get(contractId);
    const [docs, checklist] = await Promise.all([contracts.documents([c.id]), contracts.checklist(c)]);
    return contractJson(c, docs.get(c.id), checklist.rows);
  };

  const amendmentFull = async (amendmentId: number) => {
    const a = await amendments.get(amendmentId);
    const [items, comments, files] = await Promise.all([amendments.items([a.id]), amendments.comments(a.id), amendments.files(a.id)]);
    return amendmentJson(a, items.get(a.id) ?? [], clock.now(), { comments, files });
  };

  r.get('/contracts', requireRole(), async (req, res) => {
    const query = parseInput(contractListQuerySchema, req.query);
    const page = pageNumber(req.query.page);
    const pageSize = parseInput(pageSizeSchema, req.query.pageSize);
    const { contracts: rows, total } = await contracts.list({ vendorId: query.vendor, type: query.type, status: query.status, noticeDue: query.notice === 'due' }, page, pageSize);
    const docs = await contracts.documents(rows.map((c) => c.id));
    res.json({ data: rows.map((c) => contractJson(c, docs.get(c.id))), page, pageSize, total });
  });

  r.get('/vendors/:id/contracts', requireRole(), async (req, res) => {
    const v = await ctx.vendors.get(id(req.params.id, 'vendor'));
    const rows = await contracts.forVendor(v.id);
    const docs = await contracts.documents(rows.map((c) => c.id));
    res.json({ data: rows.map((c) => contractJson(c, docs.get(c.id))) });
  });

  r.post('/vendors/:id/contracts', editors, async (req, res) => {
    const input = parseInput(apiCreateContractSchema, req.body);
    const c = await contracts.create(actorOf(req), id(req.params.id, 'vendor'), input);
    res.status(201).location(`/api/v1/contracts/${c.id}`).json(await full(c.id));
  });

  r.get('/contracts/:id', requireRole(), async (req, res) => {
    res.json(await full(id(req.params.id, 'contract')));
  });

  r.patch('/contracts/:id', editors, async (req, res) => {
    const contractId = id(req.params.id, 'contract');
    await contracts.get(contractId);
    const changes = sentFields(parseInput(patchContractSchema, req.body), req.body);
    await contracts.update(actorOf(req), contractId, changes);
    res.json(await full(contractId));
  });

  r.put('/contracts/:id/clauses/:clauseId', editors, async (req, res) => {
    const contractId = id(req.params.id, 'contract');
    const clauseId = String(req.params.clauseId);
    if (!contracts.catalogue.get(clauseId)) throw new NotFoundError(`${clauseId} is not a clause of the catalogue.`);
    const review = parseInput(apiClauseReviewSchema, req.body);
    try {
      await contracts.reviewClauses(actorOf(req), contractId, [{ clauseId, review }]);
    } catch (err) {
      // The API names the body's fields, not the checklist form's "<field>__<clause>".
      if (err instanceof ValidationError) throw new ValidationError(Object.fromEntries(Object.entries(err.fields).map(([k, v]) => [k.split('__')[0]!, v])));
      throw err;
    }
    res.json(await full(contractId));
  });

  r.post('/contracts/:id/document', editors, upload('document'), async (req, res) => {
    const contractId = id(req.params.id, 'contract');
    const file = fileOf(req);
    if (!file) throw new ValidationError({ document: 'Send the signed document as the multipart field "document".' });
    const f = await contracts.uploadDocument(actorOf(req), contractId, file);
    res.status(201).json(fileJson(f));
  });

  r.get('/vendors/:id/coverage', requireRole(), async (req, res) => {
    res.json(coverageJson(await contracts.vendorCoverage(id(req.params.id, 'vendor'))));
  });

  r.get('/coverage', requireRole(), async (req, res) => {
    const query = parseInput(matrixQuerySchema, req.query);
    const page = pageNumber(req.query.page);
    const pageSize = parseInput(pageSizeSchema, req.query.pageSize);
    const [{ vendors, total, facts }, shares] = await Promise.all([contracts.matrix(query, page, pageSize), contracts.shares()]);
    const states = await contracts.vendorStates(vendors.map((v) => v.id), facts);
    res.json({
      shares: shares.map((s) => ({ clauseId: s.clause.id, covered: s.covered, of: s.of, percent: s.percent })),
      data: vendors.map((v) => {
        const s = states.get(v.id);
        return {
          vendorId: v.id,
          legalName: v.legalName,
          status: v.status,
          tier: v.tier,
          inScope: v.inScope,
          activeContracts: s?.activeContracts ?? 0,
          coveragePercent: s ? coveragePercent([...s.states.values()]) : null,
          clauses: Object.fromEntries(s?.states ?? []),
        };
      }),
      page,
      pageSize,
      total,
    });
  });

  r.get('/amendments', requireRole(), async (req, res) => {
    const query = parseInput(amendmentListQuerySchema, req.query);
    const page = pageNumber(req.query.page);
    const pageSize = parseInput(pageSizeSchema, req.query.pageSize);
    const { amendments: rows, total } = await amendments.list({ status: query.status, ownerId: query.owner, overdue: query.overdue === undefined ? undefined : query.overdue === 'true', vendorId: query.vendor }, page, pageSize);
    const items = await amendments.items(rows.map((a) => a.id));
    const now = clock.now();
    res.json({ data: rows.map((a) => amendmentJson(a, items.get(a.id) ?? [], now)), page, pageSize, total });
  });

  r.post('/vendors/:id/amendments', editors, async (req, res) => {
    const input = parseInput(apiOpenAmendmentSchema, req.body);
    const vendorId = id(req.params.id, 'vendor');
    await ctx.vendors.get(vendorId);
    const a = await amendments.open(actorOf(req), vendorId, input);
    res.status(201).location(`/api/v1/amendments/${a.id}`).json(await amendmentFull(a.id));
  });

  r.get('/amendments/:id', requireRole(), async (req, res) => {
    res.json(await amendmentFull(id(req.params.id, 'amendment request')));
  });

  r.patch('/amendments/:id', editors, async (req, res) => {
    const amendmentId = id(req.params.id, 'amendment request');
    await amendments.get(amendmentId);
    const changes = sentFields(parseInput(patchAmendmentSchema, req.body), req.body);
    await amendments.update(actorOf(req), amendmentId, changes);
    res.json(await amendmentFull(amendmentId));
  });

  r.post('/amendments/:id/status', editors, async (req, res) => {
    const input = parseInput(apiAmendmentStatusSchema, req.body);
    const a = await amendments.transition(actorOf(req), id(req.params.id, 'amendment request'), input.to, input.reason ?? null);
    res.json(await amendmentFull(a.id));
  });

  r.post('/amendments/:id/execute', editors, upload('document'), async (req, res) => {
    const amendmentId = id(req.params.id, 'amendment request');
    const raw = (req.body as Record<string, unknown> | undefined)?.references;
    let json: unknown;
    try {
      json = typeof raw === 'string' ? JSON.parse(raw) : undefined;
    } catch {
      throw new ValidationError({ references: 'references must be a JSON object of item id -> section reference.' });
    }
    const refs = parseInput(z.object({ references: executeReferencesSchema }), { references: json });
    const a = await amendments.execute(actorOf(req), amendmentId, Object.fromEntries(Object.entries(refs.references).map(([k, v]) => [Number(k), v])), fileOf(req));
    res.json(await amendmentFull(a.id));
  });

  r.post('/amendments/:id/comments', editors, async (req, res) => {
    const input = parseInput(apiCommentSchema, req.body);
    const c = await amendments.comment(actorOf(req), id(req.params.id, 'amendment request'), input.body);
    res.status(201).json({ id: c.id, authorId: c.authorId, body: c.body, createdAt: c.createdAt.toISOString() });
  });

  return r;
}
