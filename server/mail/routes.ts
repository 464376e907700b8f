import { Router } from 'express';
import type { Context } from '../context';
import { NotFoundError } from '../errors';
import { requireRole } from '../http/auth';
import { pageNumber } from '../http/forms';
import { actorOf, flash } from '../http/request';
import { decryptText } from '../security/crypto';
import { OutboxMessage } from './entities';

const PAGE_SIZE = 50;

/** The outbox for admins: every queued and sent message; the only place mail lands without SMTP. */
export function outboxRoutes(ctx: Context): Router {
  const r = Router();
  r.use(requireRole('admin'));
  const repo = () => ctx.ds.getRepository(OutboxMessage);

  r.get('/', async (req, res) => {
    const page = pageNumber(req.query.page);
    const rows = await repo().find({
      select: ['id', 'kind', 'toAddress', 'subject', 'status', 'attempts', 'createdAt', 'sentAt', 'lastError'],
      order: { id: 'DESC' },
      skip: (page - 1) * PAGE_SIZE,
      take: PAGE_SIZE + 1,
    });
    res.render('admin/outbox', {
      title: 'Outbox',
      messages: rows.slice(0, PAGE_SIZE),
      page,
      hasMore: rows.length > PAGE_SIZE,
      local: ctx.mail.transportKind === 'local',
    });
  });

  r.get('/:id', async (req, res) => {
    const id = /^\d{1,9}$/.test(req.params.id) ? Number(req.params.id) : NaN;
    const msg = Number.isNaN(id) ? null : await repo().findOne({ where: { id } });
    if (!msg) throw new NotFoundError('No such message.');
    res.render('admin/outbox-message', { title: msg.subject, msg, body: decryptText(ctx.mailKey, msg.bodyEncrypted) });
  });

  r.post('/:id/resend', async (req, res) => {
    const id = /^\d{1,9}$/.test(req.params.id) ? Number(req.params.id) : NaN;
    await ctx.mail.resend(actorOf(req), id);
    flash(req, 'success', 'The message is queued again and will be sent in a moment.');
    res.redirect(303, `/admin/outbox/${id}`);
  });
  return r;
}
