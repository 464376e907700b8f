import { type DataSource, type EntityManager, In } from 'typeorm';
import { User } from '../accounts/entities';
import { AuditEntry } from '../audit/entities';
import { type Actor, diffFields, escapeLike, LIKE_ESCAPE, recordAudit } from '../audit/service';
import type { Clock } from '../clock';
import type { Transact } from '../db/data-source';
import { rawBool, rawInt, rawQuery } from '../db/raw';
import { columnsOf } from '../db/rows';
import { AppSetting } from '../db/settings.entity';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { Vendor, VendorContact, VendorSubprocessor } from './entities';
import {
  type AssessmentState,
  computeTier,
  type DataProfile,
  DUE_SOON_DAYS,
  intervalMonths,
  isInScope,
  nextReassessment,
  type ReassessmentIntervals,
  STATUS_LABELS,
  type Tier,
  TRANSITIONS,
  type VendorStatus,
} from './risk';
import type { VendorInput } from './schema';

export interface VendorServiceDeps {
  ds: DataSource;
  transact: Transact;
  clock: Clock;
  intervals: ReassessmentIntervals;
  /** Other features' rules on status changes (the disposal certificate before termination). */
  statusRules?: StatusRules;
}

/** Options of a status change. */
export interface TransitionOptions {
  /** An administrator overrides a gate (rejected assessment, missing disposal certificate); the move's reason is recorded. */
  adminOverride?: boolean;
}

/** Rules another feature adds to status changes, run inside the change's transaction. */
export interface StatusRules {
  /** Before the move is saved: throws to refuse it; what it returns joins the audit entry's details. */
  check(m: EntityManager, actor: Actor, v: Vendor, to: VendorStatus, opts: TransitionOptions): Promise<Record<string, unknown>>;
  /** After the move is saved and audited: what follows from it (a request to the vendor). */
  apply(m: EntityManager, actor: Actor, moved: Vendor, from: VendorStatus): Promise<void>;
  /** After the transaction committed (to deliver mail queued by apply). */
  committed(): void;
}

/** The legal name folded for the case-insensitive uniqueness check. */
export function nameKey(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** The fields of a vendor a user edits (record and data profile); the rest is derived. */
export const EDITABLE_FIELDS = [
  'legalName',
  'tradingName',
  'website',
  'services',
  'businessOwnerId',
  'notes',
  'piElements',
  'maResidents',
  'recordVolume',
  'accessModes',
  'dataLocation',
  'lastAssessedOn',
  'reassessmentStart',
] as const;

export type VendorSort = 'name' | 'tier' | 'status' | 'next' | 'updated';

export interface VendorFilter {
  q?: string;
  status?: VendorStatus;
  tier?: Tier;
  ownerId?: number | 'none';
  scope?: 'in' | 'out';
  /** A state of the cycle, or `outside_cycle`: never assessed or overdue (not assessed within its cycle). */
  assessment?: AssessmentState | 'outside_cycle';
  sort?: VendorSort;
  dir?: 'asc' | 'desc';
}

export type NewVendor = VendorInput & { status: VendorStatus };

/** Scope, tier and next reassessment date, derived from the profile, any override and the last assessment. */
export function deriveRisk(
  intervals: ReassessmentIntervals,
  v: DataProfile & { tierOverride: Tier | null; lastAssessedOn: string | null },
): Pick<Vendor, 'inScope' | 'computedTier' | 'tier' | 'nextReassessmentOn'> {
  const inScope = isInScope(v);
  const computedTier = computeTier(v).tier;
  const tier = v.tierOverride ?? computedTier;
  return { inScope, computedTier, tier, nextReassessmentOn: nextReassessment(v.lastAssessedOn, intervalMonths(intervals, tier, inScope)) };
}

/** What a row of the list page shows of a vendor (see vendorRow); the rest is not read. */
const LIST_ROW_COLUMNS = ['id', 'legalName', 'tradingName', 'status', 'tier', 'tierOverride', 'inScope', 'lastAssessedOn', 'nextReassessmentOn', 'lastScore', 'residualRating', 'businessOwnerId'] as const satisfies readonly (keyof Vendor)[];

/** A vendor as a row of the list page reads it. */
export type VendorListRow = Pick<Vendor, (typeof LIST_ROW_COLUMNS)[number]>;

/** Vendors: the inventory, the pipeline, the data profile and its risk tier, contacts and subprocessors. */
export class VendorService {
  constructor(private readonly d: VendorServiceDeps) {}

  private get repo() {
    return this.d.ds.getRepository(Vendor);
  }

  /** Today's date (UTC) as YYYY-MM-DD. */
  today(): string {
    return this.d.clock.now().toISOString().slice(0, 10);
  }

  async get(id: number): Promise<Vendor> {
    const v = Number.isSafeInteger(id) ? await this.repo.findOne({ where: { id } }) : null;
    if (!v) throw new NotFoundError('No such vendor.');
    return v;
  }

  /**
   * The vendor with the names of its business owner and of whoever overrode its tier, in one plain
   * query (the vendor page reads it on every view).
   */
  async withNames(id: number): Promise<{ vendor: Vendor; ownerName: string | null; tierOverrideByName: string | null }> {
    const columns = columnsOf(this.d.ds, Vendor);
    const [row] = Number.isSafeInteger(id)
      ? await rawQuery<Record<string, unknown>>(
          this.d.ds,
          `SELECT ${columns.list('v')}, "o"."name" AS "ownerName", "t"."name" AS "tierOverrideByName" FROM "vendors" "v" ` +
            'LEFT JOIN "users" "o" ON "o"."id" = "v"."businessOwnerId" LEFT JOIN "users" "t" ON "t"."id" = "v"."tierOverrideById" WHERE "v"."id" = :id',
          { id },
        )
      : [];
    if (!row) throw new NotFoundError('No such vendor.');
    return { vendor: columns.read(row, 'v'), ownerName: (row.ownerName as string | null) ?? null, tierOverrideByName: (row.tierOverrideByName as string | null) ?? null };
  }

  /** The vendor's contacts, the security contact first, then by name. */
  async contacts(vendorId: number): Promise<VendorContact[]> {
    const columns = columnsOf(this.d.ds, VendorContact);
    const rows = await rawQuery<Record<string, unknown>>(
      this.d.ds,
      `SELECT ${columns.list('c')} FROM "vendor_contacts" "c" WHERE "c"."vendorId" = :vendorId ORDER BY "c"."isSecurityContact" DESC, "c"."name" ASC`,
      { vendorId },
    );
    return rows.map((r) => columns.read(r, 'c'));
  }

  /** The vendor's subprocessors by name. */
  async subprocessors(vendorId: number): Promise<VendorSubprocessor[]> {
    const columns = columnsOf(this.d.ds, VendorSubprocessor);
    const rows = await rawQuery<Record<string, unknown>>(this.d.ds, `SELECT ${columns.list('s')} FROM "vendor_subprocessors" "s" WHERE "s"."vendorId" = :vendorId ORDER BY "s"."name" ASC`, { vendorId });
    return rows.map((r) => columns.read(r, 's'));
  }

  /** The vendor's history from the audit log, newest first. */
  async timeline(vendorId: number, limit = 50): Promise<AuditEntry[]> {
    return this.timelineOf('vendor', vendorId, limit);
  }

  /** Any record's history from the audit log, newest first (plain SQL: every record page reads it). */
  async timelineOf(entityType: string, entityId: number, limit = 50): Promise<AuditEntry[]> {
    const columns = columnsOf(this.d.ds, AuditEntry);
    const rows = await rawQuery<Record<string, unknown>>(
      this.d.ds,
      `SELECT ${columns.list('a')} FROM "audit_entries" "a" WHERE "a"."entityType" = :entityType AND "a"."entityId" = :entityId ORDER BY "a"."at" DESC, "a"."id" DESC LIMIT :limit`,
      { entityType, entityId: String(entityId), limit: Math.max(0, Math.trunc(limit)) },
    );
    return rows.map((r) => columns.read(r, 'a'));
  }

  private async checkOwner(m: EntityManager, ownerId: number | null | undefined): Promise<void> {
    if (ownerId === null || ownerId === undefined) return;
    const owner = await m.findOne(User, { where: { id: ownerId } });
    if (!owner || !owner.active) throw new ValidationError({ businessOwnerId: 'Business owner must be an active user.' });
  }

  private checkAssessedDate(date: string | null | undefined): void {
    if (date && date > this.today()) throw new ValidationError({ lastAssessedOn: 'Last assessed on cannot be in the future.' });
  }

  private async checkNameFree(m: EntityManager, key: string, exceptId?: number): Promise<void> {
    const other = await m.findOne(Vendor, { where: { legalNameKey: key }, select: ['id', 'legalName'] });
    if (other && other.id !== exceptId) {
      const message = `A vendor named "${other.legalName}" already exists.`;
      throw new ConflictError(message, { legalName: message });
    }
  }

  /** Creates a vendor (and any contacts given) with its derived tier; audited. */
  async create(actor: Actor, input: NewVendor, contacts: ContactInput[] = []): Promise<Vendor> {
    this.checkAssessedDate(input.lastAssessedOn);
    checkOneSecurityContact(contacts);
    return this.d.transact(async (m) => {
      const key = nameKey(input.legalName);
      await this.checkNameFree(m, key);
      await this.checkOwner(m, input.businessOwnerId);
      const now = this.d.clock.now();
      const record = this.newRecord(input, actor.id, now);
      const vendor = await m.save(m.create(Vendor, record));
      for (const c of contacts) await m.insert(VendorContact, { ...contactRecord(c), vendorId: vendor.id, createdAt: now, updatedAt: now });
      await recordAudit(m, this.d.clock, actor, {
        action: 'vendor.created',
        entityType: 'vendor',
        entityId: vendor.id,
        details: { legalName: vendor.legalName, status: vendor.status, tier: vendor.tier, inScope: vendor.inScope, contacts: contacts.length },
      });
      return vendor;
    });
  }

  /** The full row for a new vendor, with its derived fields; shared by create and CSV import. */
  newRecord(input: NewVendor, createdById: number | null, now: Date): Omit<Vendor, 'id'> {
    const lastAssessedOn = input.lastAssessedOn ?? null;
    return {
      legalName: input.legalName,
      legalNameKey: nameKey(input.legalName),
      tradingName: input.tradingName ?? null,
      website: input.website ?? null,
      services: input.services ?? null,
      businessOwnerId: input.businessOwnerId ?? null,
      reassessmentStart: input.reassessmentStart ?? 'send',
      status: input.status,
      notes: input.notes ?? null,
      piElements: input.piElements,
      maResidents: input.maResidents,
      recordVolume: input.recordVolume,
      accessModes: input.accessModes,
      dataLocation: input.dataLocation ?? null,
      tierOverride: null,
      tierOverrideReason: null,
      tierOverrideById: null,
      tierOverrideAt: null,
      lastAssessedOn,
      ...deriveRisk(this.d.intervals, { ...input, tierOverride: null, lastAssessedOn }),
      lastScore: null,
      residualRating: null,
      lastDecision: null,
      createdById,
      createdAt: now,
      updatedAt: now,
    };
  }

  /**
   * Applies changed fields (record and profile). Only fields present in `changes` are touched; the
   * merged record must still satisfy the profile rules. Audited with before and after.
   */
  async update(actor: Actor, id: number, changes: Partial<VendorInput>): Promise<Vendor> {
    this.checkAssessedDate(changes.lastAssessedOn);
    return this.d.transact(async (m) => {
      const v = await m.findOne(Vendor, { where: { id } });
      if (!v) throw new NotFoundError('No such vendor.');
      const merged = { ...v, ...changes } as Vendor;
      if (merged.piElements.length > 0 && merged.recordVolume === 'none') {
        throw new ValidationError({ recordVolume: 'Choose the approximate number of records the vendor can reach.' });
      }
      if (merged.piElements.length > 0 && merged.accessModes.length === 0) {
        throw new ValidationError({ accessModes: 'Choose how the vendor handles the personal information.' });
      }
      if (changes.legalName !== undefined) {
        merged.legalNameKey = nameKey(changes.legalName);
        await this.checkNameFree(m, merged.legalNameKey, v.id);
      }
      if (changes.businessOwnerId !== undefined && changes.businessOwnerId !== v.businessOwnerId) await this.checkOwner(m, changes.businessOwnerId);
      Object.assign(merged, deriveRisk(this.d.intervals, merged));
      const audited = [...EDITABLE_FIELDS, 'inScope', 'computedTier', 'tier', 'nextReassessmentOn'] as const;
      const diff = diffFields(v, merged, audited);
      for (const f of ['piElements', 'accessModes'] as const) {
        if (v[f].join(',') !== merged[f].join(',')) diff[f] = [v[f], merged[f]];
        else delete diff[f];
      }
      if (Object.keys(diff).length === 0) return v;
      merged.updatedAt = this.d.clock.now();
      await m.save(Vendor, merged);
      await recordAudit(m, this.d.clock, actor, { action: 'vendor.updated', entityType: 'vendor', entityId: v.id, changes: diff });
      return merged;
    });
  }

  /** The statuses a vendor may move to next. */
  nextStatuses(v: Vendor): VendorStatus[] {
    return TRANSITIONS[v.status];
  }

  /** Moves a vendor along the pipeline; only the allowed moves, each with a reason; audited. */
  async transition(actor: Actor, id: number, to: VendorStatus, reason: string, opts: TransitionOptions = {}): Promise<Vendor> {
    const moved = await this.d.transact(async (m) => {
      const v = await m.findOne(Vendor, { where: { id } });
      if (!v) throw new NotFoundError('No such vendor.');
      if (!TRANSITIONS[v.status].includes(to)) {
        const allowed = TRANSITIONS[v.status].map((s) => STATUS_LABELS[s]).join(' or ');
        const message = `A vendor cannot move from ${STATUS_LABELS[v.status]} to ${STATUS_LABELS[to]}; from ${STATUS_LABELS[v.status]} it can move to ${allowed}.`;
        throw new ConflictError(message, { to: message });
      }
      const overridden = to === 'active' && v.lastDecision === 'rejected';
      if (overridden && !opts.adminOverride) {
        const message = 'The latest assessment of this vendor was rejected, so it cannot become active. An administrator can override this with a reason.';
        throw new ConflictError(message, { to: message });
      }
      const ruled = (await this.d.statusRules?.check(m, actor, v, to, opts)) ?? {};
      const now = this.d.clock.now();
      await m.update(Vendor, { id }, { status: to, updatedAt: now });
      await recordAudit(m, this.d.clock, actor, {
        action: 'vendor.status_changed',
        entityType: 'vendor',
        entityId: id,
        changes: { status: [v.status, to] },
        details: { ...(overridden ? { reason, overrideOfRejectedAssessment: true } : { reason }), ...ruled },
      });
      const after: Vendor = { ...v, status: to, updatedAt: now };
      await this.d.statusRules?.apply(m, actor, after, v.status);
      return after;
    });
    this.d.statusRules?.committed();
    return moved;
  }

  /** Sets (or, with tier null, removes) a reviewer's override of the computed tier; audited with the justification. */
  async overrideTier(actor: Actor, id: number, tier: Tier | null, reason: string): Promise<Vendor> {
    return this.d.transact(async (m) => {
      const v = await m.findOne(Vendor, { where: { id } });
      if (!v) throw new NotFoundError('No such vendor.');
      if (tier === null && v.tierOverride === null) throw new ConflictError('This vendor has no tier override to remove.');
      const now = this.d.clock.now();
      const next: Vendor = {
        ...v,
        tierOverride: tier,
        tierOverrideReason: tier === null ? null : reason,
        tierOverrideById: tier === null ? null : actor.id,
        tierOverrideAt: tier === null ? null : now,
        updatedAt: now,
      };
      Object.assign(next, deriveRisk(this.d.intervals, next));
      await m.save(Vendor, next);
      await recordAudit(m, this.d.clock, actor, {
        action: tier === null ? 'vendor.tier_override_removed' : 'vendor.tier_overridden',
        entityType: 'vendor',
        entityId: id,
        changes: diffFields(v, next, ['tierOverride', 'tier', 'nextReassessmentOn']),
        details: { reason, computedTier: v.computedTier },
      });
      return next;
    });
  }

  /** Adds a contact; marking it the security contact unmarks the previous one. */
  async addContact(actor: Actor, vendorId: number, input: ContactInput): Promise<VendorContact> {
    return this.d.transact(async (m) => {
      await this.lockVendor(m, vendorId);
      if (input.isSecurityContact) await m.update(VendorContact, { vendorId, isSecurityContact: true }, { isSecurityContact: false });
      const now = this.d.clock.now();
      const contact = await m.save(m.create(VendorContact, { ...contactRecord(input), vendorId, createdAt: now, updatedAt: now }));
      await recordAudit(m, this.d.clock, actor, {
        action: 'vendor.contact_added',
        entityType: 'vendor',
        entityId: vendorId,
        details: { contactId: contact.id, name: contact.name, email: contact.email, securityContact: contact.isSecurityContact },
      });
      await this.touch(m, vendorId);
      return contact;
    });
  }

  async updateContact(actor: Actor, vendorId: number, contactId: number, changes: Partial<ContactInput>): Promise<VendorContact> {
    return this.d.transact(async (m) => {
      await this.lockVendor(m, vendorId);
      const c = await m.findOne(VendorContact, { where: { id: contactId, vendorId } });
      if (!c) throw new NotFoundError('No such contact for this vendor.');
      const next = { ...c, ...contactRecord({ ...c, ...changes }), updatedAt: this.d.clock.now() };
      if (next.isSecurityContact && !c.isSecurityContact) {
        await m.update(VendorContact, { vendorId, isSecurityContact: true }, { isSecurityContact: false });
      }
      const diff = diffFields(c, next, ['name', 'email', 'role', 'isSecurityContact']);
      if (Object.keys(diff).length === 0) return c;
      await m.save(VendorContact, next);
      await recordAudit(m, this.d.clock, actor, {
        action: 'vendor.contact_updated',
        entityType: 'vendor',
        entityId: vendorId,
        changes: diff,
        details: { contactId: c.id },
      });
      await this.touch(m, vendorId);
      return next;
    });
  }

  async removeContact(actor: Actor, vendorId: number, contactId: number): Promise<void> {
    await this.d.transact(async (m) => {
      await this.lockVendor(m, vendorId);
      const c = await m.findOne(VendorContact, { where: { id: contactId, vendorId } });
      if (!c) throw new NotFoundError('No such contact for this vendor.');
      await m.delete(VendorContact, { id: c.id });
      await recordAudit(m, this.d.clock, actor, {
        action: 'vendor.contact_removed',
        entityType: 'vendor',
        entityId: vendorId,
        details: { contactId: c.id, name: c.name, email: c.email, securityContact: c.isSecurityContact },
      });
      await this.touch(m, vendorId);
    });
  }

  async addSubprocessor(actor: Actor, vendorId: number, input: { name: string; purpose: string; location?: string | null }): Promise<VendorSubprocessor> {
    return this.d.transact(async (m) => {
      await this.lockVendor(m, vendorId);
      const sp = await m.save(m.create(VendorSubprocessor, { vendorId, name: input.name, purpose: input.purpose, location: input.location ?? null, createdAt: this.d.clock.now() }));
      await recordAudit(m, this.d.clock, actor, {
        action: 'vendor.subprocessor_added',
        entityType: 'vendor',
        entityId: vendorId,
        details: { subprocessorId: sp.id, name: sp.name, purpose: sp.purpose },
      });
      await this.touch(m, vendorId);
      return sp;
    });
  }

  async removeSubprocessor(actor: Actor, vendorId: number, subprocessorId: number): Promise<void> {
    await this.d.transact(async (m) => {
      await this.lockVendor(m, vendorId);
      const sp = await m.findOne(VendorSubprocessor, { where: { id: subprocessorId, vendorId } });
      if (!sp) throw new NotFoundError('No such subprocessor for this vendor.');
      await m.delete(VendorSubprocessor, { id: sp.id });
      await recordAudit(m, this.d.clock, actor, {
        action: 'vendor.subprocessor_removed',
        entityType: 'vendor',
        entityId: vendorId,
        details: { subprocessorId: sp.id, name: sp.name },
      });
      await this.touch(m, vendorId);
    });
  }

  private async lockVendor(m: EntityManager, vendorId: number): Promise<void> {
    const exists = await m.count(Vendor, { where: { id: vendorId } });
    if (!exists) throw new NotFoundError('No such vendor.');
  }

  private async touch(m: EntityManager, vendorId: number): Promise<void> {
    await m.update(Vendor, { id: vendorId }, { updatedAt: this.d.clock.now() });
  }

  /** The list filters as SQL conditions over vendors aliased "v", with their parameters. */
  private filterSql(f: VendorFilter): { where: string; params: Record<string, unknown> } {
    const conditions: string[] = [];
    const params: Record<string, unknown> = {};
    if (f.q) {
      params.q = `%${escapeLike(f.q.toLowerCase())}%`;
      conditions.push(`("v"."legalNameKey" LIKE :q ${LIKE_ESCAPE} OR LOWER("v"."tradingName") LIKE :q ${LIKE_ESCAPE})`);
    }
    if (f.status) {
      params.status = f.status;
      conditions.push('"v"."status" = :status');
    }
    if (f.tier) {
      params.tier = f.tier;
      conditions.push('"v"."tier" = :tier');
    }
    if (f.ownerId === 'none') conditions.push('"v"."businessOwnerId" IS NULL');
    else if (f.ownerId !== undefined) {
      params.owner = f.ownerId;
      conditions.push('"v"."businessOwnerId" = :owner');
    }
    if (f.scope) {
      params.inScope = f.scope === 'in';
      conditions.push('"v"."inScope" = :inScope');
    }
    if (f.assessment) {
      const today = this.today();
      params.today = today;
      params.soon = new Date(Date.parse(`${today}T00:00:00Z`) + DUE_SOON_DAYS * 86_400_000).toISOString().slice(0, 10);
      params.notInScope = false;
      const notRequired = `("v"."inScope" = :notInScope AND "v"."tier" = 'none')`;
      const never = `"v"."lastAssessedOn" IS NULL AND NOT ${notRequired}`;
      const overdue = '"v"."lastAssessedOn" IS NOT NULL AND "v"."nextReassessmentOn" < :today';
      conditions.push(
        {
          overdue,
          due_soon: '"v"."nextReassessmentOn" >= :today AND "v"."nextReassessmentOn" <= :soon',
          current: '"v"."nextReassessmentOn" > :soon',
          never,
          not_required: `(${notRequired} OR ("v"."lastAssessedOn" IS NOT NULL AND "v"."nextReassessmentOn" IS NULL))`,
          outside_cycle: `((${never}) OR (${overdue}))`,
        }[f.assessment],
      );
    }
    return { where: conditions.join(' AND '), params };
  }

  /** One page of the filtered, sorted list and the total count, every column of each vendor (the export and the API). */
  async list(f: VendorFilter, page: number, pageSize: number): Promise<{ vendors: Vendor[]; total: number }> {
    const columns = columnsOf(this.d.ds, Vendor);
    const { rows, total } = await this.listPage(f, page, pageSize, columns.list('v'));
    return { vendors: rows.map((r) => columns.read(r, 'v')), total };
  }

  /** One page of the filtered, sorted list and the total count, with what a row of the list page shows. */
  async listRows(f: VendorFilter, page: number, pageSize: number): Promise<{ vendors: VendorListRow[]; total: number }> {
    const columns = columnsOf(this.d.ds, Vendor, LIST_ROW_COLUMNS);
    const { rows, total } = await this.listPage(f, page, pageSize, columns.list('v'));
    return { vendors: rows.map((r) => columns.read(r, 'v')), total };
  }

  /** A page of raw vendor rows (the given select list, see EntityColumns) and the total, in plain SQL: the list is read on every view. */
  private async listPage(f: VendorFilter, page: number, pageSize: number, columns: string): Promise<{ rows: Record<string, unknown>[]; total: number }> {
    const filter = this.filterSql(f);
    const select = `SELECT ${columns} FROM "vendors" "v"`;
    const where = (extra?: string) => {
      const all = [filter.where, extra].filter(Boolean).join(' AND ');
      return all ? ` WHERE ${all}` : '';
    };
    const count = async (extra?: string) => {
      const [row] = await rawQuery<{ n: number | string }>(this.d.ds, `SELECT COUNT(*) AS "n" FROM "vendors" "v"${where(extra)}`, filter.params);
      return rawInt(row?.n ?? 0);
    };
    const rows = (extra: string | undefined, orderBy: string, offset: number, limit: number) =>
      rawQuery<Record<string, unknown>>(this.d.ds, `${select}${where(extra)} ORDER BY ${orderBy} LIMIT :limit OFFSET :offset`, { ...filter.params, limit, offset });
    // The page with the total beside each row (counted once by the database): one statement instead
    // of two; only a page past the end, which has no row to carry it, counts on its own.
    const rowsAndTotal = async (extra: string | undefined, orderBy: string): Promise<{ rows: Record<string, unknown>[]; total: number }> => {
      const found = await rawQuery<Record<string, unknown>>(
        this.d.ds,
        `SELECT (SELECT COUNT(*) FROM "vendors" "v"${where()}) AS "listTotal", ${select.slice('SELECT '.length)}${where(extra)} ORDER BY ${orderBy} LIMIT :limit OFFSET :offset`,
        { ...filter.params, limit: pageSize, offset },
      );
      return { rows: found, total: found.length > 0 ? rawInt(found[0]!.listTotal) : await count() };
    };
    const dir = f.dir === 'desc' ? 'DESC' : 'ASC';
    const offset = (page - 1) * pageSize;
    const sort = f.sort ?? 'name';
    if (sort === 'next') {
      // By next reassessment date, vendors without a date last either way. Read as two ranges, each
      // in index order (status, scope, date), instead of sorting every matching vendor by a computed
      // key: the dated vendors first, then, when the page reaches past them, the undated ones.
      const dated = '"v"."nextReassessmentOn" IS NOT NULL';
      const { rows: first, total } = await rowsAndTotal(dated, `"v"."nextReassessmentOn" ${dir}, "v"."id" ASC`);
      if (first.length === pageSize || offset + first.length >= total) return { rows: first, total };
      // The page reaches past the dated vendors: how many there are is known when some were on it.
      const datedTotal = first.length > 0 ? offset + first.length : await count(dated);
      const rest = await rows('"v"."nextReassessmentOn" IS NULL', '"v"."id" ASC', Math.max(0, offset - datedTotal), pageSize - first.length);
      return { rows: [...first, ...rest], total };
    }
    const orderBy = {
      tier: `CASE "v"."tier" WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END ${dir}`,
      status: `CASE "v"."status" WHEN 'prospect' THEN 0 WHEN 'onboarding' THEN 1 WHEN 'active' THEN 2 WHEN 'offboarding' THEN 3 ELSE 4 END ${dir}`,
      updated: `"v"."updatedAt" ${dir}`,
      name: `"v"."legalNameKey" ${dir}`,
    }[sort];
    return rowsAndTotal(undefined, `${orderBy}, "v"."id" ASC`);
  }

  /** Users by id, for showing owners beside a page of vendors in one query. */
  async usersById(ids: (number | null)[]): Promise<Map<number, User>> {
    const wanted = [...new Set(ids.filter((i): i is number => i !== null))];
    if (wanted.length === 0) return new Map();
    const users = await this.d.ds.getRepository(User).find({ where: { id: In(wanted) }, select: ['id', 'name', 'email', 'active'] });
    return new Map(users.map((u) => [u.id, u]));
  }

  /** Legal names of several vendors in one query. */
  async namesById(ids: number[]): Promise<Map<number, string>> {
    const wanted = [...new Set(ids)];
    if (wanted.length === 0) return new Map();
    const rows = await this.repo.find({ where: { id: In(wanted) }, select: ['id', 'legalName'] });
    return new Map(rows.map((v) => [v.id, v.legalName]));
  }

  /** Security contacts of several vendors in one query. */
  async securityContacts(vendorIds: number[]): Promise<Map<number, VendorContact>> {
    if (vendorIds.length === 0) return new Map();
    const rows = await this.d.ds.getRepository(VendorContact).find({ where: { vendorId: In(vendorIds), isSecurityContact: true } });
    return new Map(rows.map((c) => [c.vendorId, c]));
  }

  /**
   * Every user's id, name and whether active, by name: the owners shown beside a page of vendors
   * (an inactive user may still own some) and the owner menu's choices, in one query.
   */
  async userDirectory(): Promise<Pick<User, 'id' | 'name' | 'active'>[]> {
    const rows = await rawQuery<Record<string, unknown>>(this.d.ds, 'SELECT "id", "name", "active" FROM "users" ORDER BY "name" ASC, "id" ASC');
    return rows.map((r) => ({ id: rawInt(r.id), name: r.name as string, active: rawBool(r.active) }));
  }

  /** Active users who can own a vendor relationship, for the owner menu. */
  async ownerOptions(): Promise<{ id: number; name: string }[]> {
    return this.d.ds.getRepository(User).find({ where: { active: true }, select: ['id', 'name'], order: { name: 'ASC' } });
  }

  /**
   * Recomputes every vendor's next reassessment date when the configured intervals differ from
   * those the stored dates were computed with (REASSESSMENT_MONTHS changed). Cheap when unchanged.
   */
  async applyIntervals(): Promise<number> {
    const wanted = JSON.stringify(this.d.intervals);
    return this.d.transact(async (m) => {
      const current = await m.findOne(AppSetting, { where: { key: 'reassessment_intervals' } });
      if (current?.value === wanted) return 0;
      let changed = 0;
      let lastId = 0;
      for (;;) {
        const batch = await m
          .createQueryBuilder(Vendor, 'v')
          .select(['v.id', 'v.tier', 'v.inScope', 'v.lastAssessedOn', 'v.nextReassessmentOn'])
          .where('v.id > :lastId', { lastId })
          .orderBy('v.id', 'ASC')
          .limit(1000)
          .getMany();
        if (batch.length === 0) break;
        for (const v of batch) {
          const next = nextReassessment(v.lastAssessedOn, intervalMonths(this.d.intervals, v.tier, v.inScope));
          if (next !== v.nextReassessmentOn) {
            await m.update(Vendor, { id: v.id }, { nextReassessmentOn: next });
            changed += 1;
          }
        }
        lastId = batch[batch.length - 1]!.id;
      }
      // Upsert: two instances starting at once both recompute (the same dates) and both record it.
      await m.upsert(AppSetting, { key: 'reassessment_intervals', value: wanted, updatedAt: this.d.clock.now() }, { conflictPaths: ['key'] });
      return changed;
    });
  }
}

export interface ContactInput {
  name: string;
  email: string;
  role?: string | null;
  isSecurityContact: boolean;
}

function contactRecord(c: ContactInput): Pick<VendorContact, 'name' | 'email' | 'role' | 'isSecurityContact'> {
  return { name: c.name, email: c.email.toLowerCase(), role: c.role ?? null, isSecurityContact: c.isSecurityContact };
}

function checkOneSecurityContact(contacts: ContactInput[]): void {
  if (contacts.filter((c) => c.isSecurityContact).length > 1) {
    throw new ValidationError({ contacts: 'Only one contact can be the security contact.' });
  }
}
