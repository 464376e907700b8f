import { type DataSource, IsNull } from 'typeorm';
import { type Actor, recordAudit } from '../audit/service';
import { type Clock, MINUTE } from '../clock';
import type { Transact } from '../db/data-source';
import { ConflictError, NotFoundError } from '../errors';
import { newToken, sha256Hex } from '../security/crypto';
import { ApiToken } from './api-token.entity';
import { User } from './entities';

/** Tokens carry a recognisable prefix so secret scanners and people can tell what they are. */
export const TOKEN_PREFIX = 'ovs_';
const MAX_TOKENS_PER_USER = 20;

/** Personal API tokens: shown once, stored hashed, named, revocable, last use recorded. */
export class ApiTokenService {
  constructor(private readonly d: { ds: DataSource; transact: Transact; clock: Clock }) {}

  async list(userId: number): Promise<ApiToken[]> {
    return this.d.ds.getRepository(ApiToken).find({ where: { userId }, order: { createdAt: 'DESC' } });
  }

  /** Creates a token and returns it in the clear; this is the only time it is available. */
  async create(actor: Actor, name: string): Promise<{ token: string; record: ApiToken }> {
    const userId = actor.id!;
    return this.d.transact(async (m) => {
      const active = await m.count(ApiToken, { where: { userId, revokedAt: IsNull() } });
      if (active >= MAX_TOKENS_PER_USER) throw new ConflictError(`At most ${MAX_TOKENS_PER_USER} active tokens; revoke one first.`);
      const token = TOKEN_PREFIX + newToken();
      const record = await m.save(
        m.create(ApiToken, { userId, name, tokenHash: sha256Hex(token), prefix: token.slice(0, 10), createdAt: this.d.clock.now(), lastUsedAt: null, revokedAt: null }),
      );
      await recordAudit(m, this.d.clock, actor, { action: 'api_token.created', entityType: 'user', entityId: userId, details: { tokenId: record.id, name } });
      return { token, record };
    });
  }

  async revoke(actor: Actor, tokenId: number): Promise<void> {
    await this.d.transact(async (m) => {
      const t = await m.findOne(ApiToken, { where: { id: tokenId, userId: actor.id! } });
      if (!t || t.revokedAt) throw new NotFoundError('No such active token.');
      await m.update(ApiToken, { id: t.id }, { revokedAt: this.d.clock.now() });
      await recordAudit(m, this.d.clock, actor, { action: 'api_token.revoked', entityType: 'user', entityId: actor.id!, details: { tokenId: t.id, name: t.name } });
    });
  }

  /** The active user behind a bearer token, or null. Records the last use (at most once a minute). */
  async authenticate(token: string): Promise<User | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return null;
    const record = await this.d.ds.getRepository(ApiToken).findOne({ where: { tokenHash: sha256Hex(token) } });
    if (!record || record.revokedAt) return null;
    const user = await this.d.ds.getRepository(User).findOne({ where: { id: record.userId } });
    if (!user || !user.active) return null;
    const now = this.d.clock.now();
    if (!record.lastUsedAt || now.getTime() - record.lastUsedAt.getTime() > MINUTE) {
      await this.d.ds.getRepository(ApiToken).update({ id: record.id }, { lastUsedAt: now });
    }
    return user;
  }
}
