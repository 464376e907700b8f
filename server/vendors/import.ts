import { type DataSource, In } from 'typeorm';
import { type Actor, recordAudit, recordAuditMany } from '../audit/service';
import type { Clock } from '../clock';
import type { Transact } from '../db/data-source';
import { ConflictError, NotFoundError } from '../errors';
import { previewImport, type ImportPreview, type ImportRow } from './csv';
import { Vendor, VendorContact, VendorImport } from './entities';
import type { VendorService } from './service';

const CHUNK = 400;

/** CSV import in two steps: a preview that stores the validated rows, then a commit of all rows or none. */
export class VendorImportService {
  constructor(
    private readonly d: { ds: DataSource; transact: Transact; clock: Clock; vendors: VendorService },
  ) {}

  /** Validates the file; when it is clean, keeps the rows for the commit and returns the import id. */
  async preview(actor: Actor, fileName: string, content: Buffer): Promise<ImportPreview & { importId: number | null }> {
    const result = await previewImport(this.d.ds, content, this.d.vendors.today());
    if (result.problems.length > 0) return { ...result, importId: null };
    const row = await this.d.transact((m) =>
      m.save(
        m.create(VendorImport, {
          createdById: actor.id!,
          fileName: fileName.slice(0, 255),
          rowCount: result.rows.length,
          rows: JSON.stringify(result.rows),
          status: 'previewed',
          createdAt: this.d.clock.now(),
          committedAt: null,
        }),
      ),
    );
    return { ...result, importId: row.id };
  }

  /** The staged import of this user, still waiting for a commit. */
  async staged(actor: Actor, importId: number): Promise<VendorImport> {
    const row = await this.d.ds.getRepository(VendorImport).findOne({ where: { id: importId, createdById: actor.id! } });
    if (!row) throw new NotFoundError('No such import.');
    if (row.status !== 'previewed') throw new ConflictError(`This import was already ${row.status}.`);
    return row;
  }

  /**
   * Creates every staged vendor (and its security contact) in one transaction. If any name was
   * taken meanwhile, nothing is imported.
   */
  async commit(actor: Actor, importId: number): Promise<number> {
    return this.d.transact(async (m) => {
      const staged = await m.findOne(VendorImport, { where: { id: importId, createdById: actor.id! } });
      if (!staged) throw new NotFoundError('No such import.');
      if (staged.status !== 'previewed') throw new ConflictError(`This import was already ${staged.status}.`);
      const rows = JSON.parse(staged.rows) as ImportRow[];
      const now = this.d.clock.now();
      const records = rows.map((r) => this.d.vendors.newRecord(r.vendor, actor.id, now));
      const keys = records.map((r) => r.legalNameKey);
      for (let i = 0; i < keys.length; i += CHUNK) {
        const taken = await m.find(Vendor, { where: { legalNameKey: In(keys.slice(i, i + CHUNK)) }, select: ['legalName'] });
        if (taken.length > 0) {
          throw new ConflictError(`Nothing was imported: ${taken.map((t) => `"${t.legalName}"`).join(', ')} now exist(s) in Oversight. Upload the file again.`);
        }
      }
      const idByKey = new Map<string, number>();
      for (let i = 0; i < records.length; i += CHUNK) {
        const chunk = records.slice(i, i + CHUNK);
        await m.insert(Vendor, chunk);
        const inserted = await m.find(Vendor, { where: { legalNameKey: In(chunk.map((r) => r.legalNameKey)) }, select: ['id', 'legalNameKey'] });
        for (const v of inserted) idByKey.set(v.legalNameKey, v.id);
      }
      const contacts = rows.flatMap((r, i) =>
        r.contact ? [{ ...r.contact, email: r.contact.email.toLowerCase(), role: r.contact.role ?? null, vendorId: idByKey.get(records[i]!.legalNameKey)!, createdAt: now, updatedAt: now }] : [],
      );
      for (let i = 0; i < contacts.length; i += CHUNK) await m.insert(VendorContact, contacts.slice(i, i + CHUNK));
      await recordAuditMany(
        m,
        this.d.clock,
        actor,
        records.map((r) => ({
          action: 'vendor.created',
          entityType: 'vendor',
          entityId: idByKey.get(r.legalNameKey)!,
          details: { legalName: r.legalName, status: r.status, tier: r.tier, inScope: r.inScope, importId },
        })),
      );
      await m.update(VendorImport, { id: importId }, { status: 'committed', committedAt: now, rows: '[]' });
      await recordAudit(m, this.d.clock, actor, {
        action: 'vendor.import_committed',
        entityType: 'vendor_import',
        entityId: importId,
        details: { fileName: staged.fileName, vendors: records.length },
      });
      return records.length;
    });
  }

  /** Drops a staged import without creating anything. */
  async discard(actor: Actor, importId: number): Promise<void> {
    const staged = await this.staged(actor, importId);
    await this.d.transact(async (m) => {
      await m.update(VendorImport, { id: importId }, { status: 'discarded', rows: '[]' });
      await recordAudit(m, this.d.clock, actor, {
        action: 'vendor.import_discarded',
        entityType: 'vendor_import',
        entityId: importId,
        details: { fileName: staged.fileName, vendors: staged.rowCount },
      });
    });
  }
}
