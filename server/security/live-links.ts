import { type EntityManager, type EntityTarget, type FindOptionsOrder, type FindOptionsSelect, type FindOptionsWhere, In, IsNull } from 'typeorm';
import { decryptText } from './crypto';

/** What a secret link row holds that matters here: its sealed token and whether it still works. */
interface SealedLink {
  id: number;
  tokenEncrypted: string | null;
  replacedAt: Date | null;
  revokedAt: Date | null;
}

/**
 * The address of each owner's live link (neither replaced nor revoked, its token kept), read in one
 * query per 500 owners, for the reminder sweep's batches; null where an owner has none. `owner` is
 * the link's column naming its questionnaire or certification, `address` makes the URL of a token.
 */
export async function liveLinkAddresses<L extends SealedLink>(
  m: EntityManager,
  entity: EntityTarget<L>,
  owner: keyof L & string,
  ownerIds: readonly number[],
  key: Buffer,
  address: (token: string) => string,
): Promise<Map<number, string | null>> {
  const latest = new Map<number, string | null>(ownerIds.map((id) => [id, null]));
  const ids = [...latest.keys()];
  for (let i = 0; i < ids.length; i += 500) {
    // In id order, so that the newest live link of each owner wins (as a single look-up's id DESC).
    const links = await m.find(entity, {
      where: { [owner]: In(ids.slice(i, i + 500)), replacedAt: IsNull(), revokedAt: IsNull() } as FindOptionsWhere<L>,
      select: { id: true, [owner]: true, tokenEncrypted: true } as FindOptionsSelect<L>,
      order: { id: 'ASC' } as FindOptionsOrder<L>,
    });
    for (const l of links) latest.set(l[owner] as number, l.tokenEncrypted);
  }
  const out = new Map<number, string | null>();
  for (const [id, token] of latest) out.set(id, token ? address(decryptText(key, token)) : null);
  return out;
}
