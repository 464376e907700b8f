import { Router } from 'express';
import { z } from 'zod';
import type { Context } from '../context';
import { NotFoundError } from '../errors';
import { requireRole } from '../http/auth';
import { pageNumber, parseInput, sentFields } from '../http/forms';
import { actorOf } from '../http/request';
import { contactJson, vendorJson } from './present';
import { listQuerySchema, toFilter } from './routes';
import { apiCreateVendorSchema, contactSchema, patchContactSchema, patchVendorSchema, transitionSchema } from './schema';

const editors = requireRole('admin', 'procurement');

export const pageSizeSchema = z.coerce
  .number({ error: 'pageSize must be a number.' })
  .int('pageSize must be a whole number.')
  .min(1, 'pageSize must be from 1 to 200.')
  .max(200, 'pageSize must be from 1 to 200.')
  .default(50);

function id(raw: string | string[] | undefined, what: string): number {
  const s = String(raw);
  if (!/^\d{1,9}$/.test(s)) throw new NotFoundError(`No such ${what}.`);
  return Number(s);
}


/** /api/v1/vendors: the vendor inventory for scripts and other systems; see openapi.ts. */
export function vendorApi(ctx: Context): Router {
  const r = Router();
  const { vendors } = ctx;

  r.get('/vendors', requireRole(), async (req, res) => {
    const query = parseInput(listQuerySchema, req.query);
    const page = pageNumber(req.query.page);
    const pageSize = parseInput(pageSizeSchema, req.query.pageSize);
    const { vendors: rows, total } = await vendors.list(toFilter(query), page, pageSize);
    res.json({ data: rows.map((v) => vendorJson(v)), page, pageSize, total });
  });

  r.post('/vendors', editors, async (req, res) => {
    const input = parseInput(apiCreateVendorSchema, req.body);
    const { contacts = [], ...vendor } = input;
    const v = await vendors.create(actorOf(req), vendor, contacts);
    res.status(201).location(`/api/v1/vendors/${v.id}`).json(vendorJson(v, await vendors.contacts(v.id), []));
  });

  r.get('/vendors/:id', requireRole(), async (req, res) => {
    const v = await vendors.get(id(req.params.id, 'vendor'));
    res.json(vendorJson(v, await vendors.contacts(v.id), await vendors.subprocessors(v.id)));
  });

  r.patch('/vendors/:id', editors, async (req, res) => {
    const vendorId = id(req.params.id, 'vendor');
    await vendors.get(vendorId);
    const changes = sentFields(parseInput(patchVendorSchema, req.body), req.body);
    const v = await vendors.update(actorOf(req), vendorId, changes);
    res.json(vendorJson(v));
  });

  r.post('/vendors/:id/status', editors, async (req, res) => {
    const input = parseInput(transitionSchema, req.body);
    const adminOverride = req.user!.role === 'admin' && (req.body as { override?: unknown }).override === true;
    const v = await vendors.transition(actorOf(req), id(req.params.id, 'vendor'), input.to, input.reason, { adminOverride });
    res.json(vendorJson(v));
  });

  r.get('/vendors/:id/contacts', requireRole(), async (req, res) => {
    const v = await vendors.get(id(req.params.id, 'vendor'));
    res.json({ data: (await vendors.contacts(v.id)).map(contactJson) });
  });

  r.post('/vendors/:id/contacts', editors, async (req, res) => {
    const vendorId = id(req.params.id, 'vendor');
    const c = await vendors.addContact(actorOf(req), vendorId, parseInput(contactSchema.strict(), req.body));
    res.status(201).location(`/api/v1/vendors/${vendorId}/contacts/${c.id}`).json(contactJson(c));
  });

  r.patch('/vendors/:id/contacts/:contactId', editors, async (req, res) => {
    const changes = sentFields(parseInput(patchContactSchema, req.body), req.body);
    const c = await vendors.updateContact(actorOf(req), id(req.params.id, 'vendor'), id(req.params.contactId, 'contact'), changes);
    res.json(contactJson(c));
  });

  r.delete('/vendors/:id/contacts/:contactId', editors, async (req, res) => {
    await vendors.removeContact(actorOf(req), id(req.params.id, 'vendor'), id(req.params.contactId, 'contact'));
    res.status(204).end();
  });

  return r;
}
