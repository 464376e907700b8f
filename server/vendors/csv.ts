import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { In, type DataSource } from 'typeorm';
import { User } from '../accounts/entities';
import { defuseCells } from '../csv';
import { fieldErrors } from '../http/forms';
import { Vendor, type VendorContact } from './entities';
import { ACCESS_MODES, PI_ELEMENTS, type AccessMode, type PiElement } from './risk';
import { contactSchema, createVendorSchema } from './schema';
import { nameKey, type ContactInput, type NewVendor } from './service';

/**
 * The CSV columns for import and export, in order. Lists (personal information, access) are
 * separated by semicolons; yes/no columns accept yes, no, true, false, 1, 0 or blank.
 */
export const IMPORT_COLUMNS = [
  'legal_name',
  'trading_name',
  'website',
  'services',
  'status',
  'business_owner_email',
  'personal_information',
  'ma_residents',
  'record_volume',
  'access',
  'data_location',
  'last_assessed_on',
  'security_contact_name',
  'security_contact_email',
  'notes',
] as const;

export const REQUIRED_COLUMNS = ['legal_name'] as const;

/** Columns an export adds (derived by the portal); an import skips them, so an export re-imports. */
export const DERIVED_COLUMNS = ['id', 'in_scope', 'computed_tier', 'tier', 'tier_override_reason', 'next_reassessment_on', 'created_at', 'updated_at'] as const;

/** Names people use in spreadsheets for the personal-information elements. */
const PI_ALIASES: Record<string, PiElement> = {
  ssn: 'ssn',
  'social security number': 'ssn',
  'social security numbers': 'ssn',
  driverslicense: 'driversLicense',
  drivers_license: 'driversLicense',
  'drivers license': 'driversLicense',
  "driver's licence": 'driversLicense',
  "driver's license": 'driversLicense',
  'state id': 'driversLicense',
  financialaccount: 'financialAccount',
  financial_account: 'financialAccount',
  'financial account': 'financialAccount',
  'card number': 'financialAccount',
  biometric: 'biometric',
  biometrics: 'biometric',
};

export const MAX_IMPORT_ROWS = 50_000;

export interface ImportProblem {
  line: number;
  column: string;
  reason: string;
}

export interface ImportRow {
  line: number;
  vendor: NewVendor;
  contact: ContactInput | null;
}

export interface ImportPreview {
  rows: ImportRow[];
  problems: ImportProblem[];
}

function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(/[;|]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Reads an uploaded CSV (UTF-8, with or without BOM) into vendor rows, with one problem per bad
 * cell (line, column, reason): unknown or missing columns, invalid values, duplicate names in the
 * file or already in the portal, unknown owners. Nothing is written.
 */
export async function previewImport(ds: DataSource, content: Buffer, today: string): Promise<ImportPreview> {
  const problems: ImportProblem[] = [];
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return { rows: [], problems: [{ line: 1, column: '', reason: 'The file is not UTF-8 text. Save it as "CSV UTF-8" and try again.' }] };
  }
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, trim: true }) as string[][];
  } catch (err) {
    const e = err as { lines?: number; message: string };
    return { rows: [], problems: [{ line: e.lines ?? 1, column: '', reason: `The file is not valid CSV: ${e.message}` }] };
  }
  if (records.length === 0) return { rows: [], problems: [{ line: 1, column: '', reason: 'The file is empty.' }] };
  const header = records[0]!.map((h) => h.trim().toLowerCase().replace(/\s+/g, '_'));
  const known = new Set<string>(IMPORT_COLUMNS);
  const derived = new Set<string>(DERIVED_COLUMNS);
  const unknown = header.filter((h) => !known.has(h) && !derived.has(h));
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  const dupHeaders = header.filter((h, i) => header.indexOf(h) !== i);
  for (const h of unknown) problems.push({ line: 1, column: h, reason: `Unknown column. Columns are: ${IMPORT_COLUMNS.join(', ')}.` });
  for (const h of missing) problems.push({ line: 1, column: h, reason: 'Required column is missing.' });
  for (const h of new Set(dupHeaders)) problems.push({ line: 1, column: h, reason: 'Column appears twice.' });
  if (problems.length > 0) return { rows: [], problems };
  const body = records.slice(1);
  if (body.length === 0) return { rows: [], problems: [{ line: 2, column: '', reason: 'The file has a header but no vendors.' }] };
  if (body.length > MAX_IMPORT_ROWS) {
    return { rows: [], problems: [{ line: MAX_IMPORT_ROWS + 2, column: '', reason: `At most ${MAX_IMPORT_ROWS} vendors per file; split the file.` }] };
  }

  const ownerEmails = new Set<string>();
  for (const r of body) {
    const i = header.indexOf('business_owner_email');
    if (i >= 0 && r[i]) ownerEmails.add(r[i]!.toLowerCase());
  }
  const owners = new Map<string, User>();
  const emailList = [...ownerEmails];
  for (let i = 0; i < emailList.length; i += 500) {
    for (const u of await ds.getRepository(User).find({ where: { email: In(emailList.slice(i, i + 500)) } })) owners.set(u.email, u);
  }

  const rows: ImportRow[] = [];
  const seen = new Map<string, number>();
  body.forEach((cells, index) => {
    const line = index + 2;
    if (cells.length !== header.length) {
      problems.push({ line, column: '', reason: `Expected ${header.length} values, found ${cells.length}.` });
      return;
    }
    const get = (c: string) => {
      const i = header.indexOf(c);
      return i >= 0 ? (cells[i] ?? '') : '';
    };
    const rowProblems: ImportProblem[] = [];
    const piElements: string[] = [];
    for (const raw of splitList(get('personal_information'))) {
      const el = PI_ALIASES[raw.toLowerCase()] ?? (PI_ELEMENTS as readonly string[]).find((e) => e.toLowerCase() === raw.toLowerCase());
      if (el) piElements.push(el);
      else rowProblems.push({ line, column: 'personal_information', reason: `"${raw}" is not one of: ssn, drivers_license, financial_account, biometric.` });
    }
    const accessModes: string[] = [];
    for (const raw of splitList(get('access'))) {
      const m = (ACCESS_MODES as readonly string[]).find((a) => a === raw.toLowerCase());
      if (m) accessModes.push(m);
      else rowProblems.push({ line, column: 'access', reason: `"${raw}" is not one of: ${ACCESS_MODES.join(', ')}.` });
    }
    const ownerEmail = get('business_owner_email').toLowerCase();
    let businessOwnerId: number | null = null;
    if (ownerEmail) {
      const owner = owners.get(ownerEmail);
      if (!owner || !owner.active) rowProblems.push({ line, column: 'business_owner_email', reason: `No active user has the email ${ownerEmail}.` });
      else businessOwnerId = owner.id;
    }
    const input = {
      legalName: get('legal_name'),
      tradingName: get('trading_name'),
      website: get('website'),
      services: get('services'),
      status: get('status').toLowerCase() || undefined,
      notes: get('notes'),
      piElements: piElements as PiElement[],
      maResidents: get('ma_residents').toLowerCase() || undefined,
      recordVolume: get('record_volume').toLowerCase() || undefined,
      accessModes: accessModes as AccessMode[],
      dataLocation: get('data_location'),
      lastAssessedOn: get('last_assessed_on'),
    };
    const parsed = createVendorSchema.safeParse(input);
    if (!parsed.success) {
      for (const [field, reason] of Object.entries(fieldErrors(parsed.error))) rowProblems.push({ line, column: COLUMN_OF[field] ?? field, reason });
    } else if (parsed.data.lastAssessedOn && parsed.data.lastAssessedOn > today) {
      rowProblems.push({ line, column: 'last_assessed_on', reason: 'Last assessed on cannot be in the future.' });
    }
    let contact: ContactInput | null = null;
    const contactName = get('security_contact_name');
    const contactEmail = get('security_contact_email');
    if (contactName || contactEmail) {
      const c = contactSchema.safeParse({ name: contactName, email: contactEmail, isSecurityContact: true });
      if (!c.success) {
        for (const [field, reason] of Object.entries(fieldErrors(c.error))) rowProblems.push({ line, column: field === 'name' ? 'security_contact_name' : 'security_contact_email', reason });
      } else contact = c.data;
    }
    if (input.legalName) {
      const key = nameKey(input.legalName);
      const first = seen.get(key);
      if (first !== undefined) rowProblems.push({ line, column: 'legal_name', reason: `Duplicate of line ${first} in this file.` });
      else seen.set(key, line);
    }
    problems.push(...rowProblems);
    if (rowProblems.length === 0 && parsed.success) rows.push({ line, vendor: { ...parsed.data, businessOwnerId }, contact });
  });

  const keys = [...seen.keys()];
  for (let i = 0; i < keys.length; i += 500) {
    const existing = await ds.getRepository(Vendor).find({ where: { legalNameKey: In(keys.slice(i, i + 500)) }, select: ['legalName', 'legalNameKey'] });
    for (const v of existing) problems.push({ line: seen.get(v.legalNameKey)!, column: 'legal_name', reason: `A vendor named "${v.legalName}" already exists in Oversight.` });
  }
  problems.sort((a, b) => a.line - b.line);
  return { rows: problems.length === 0 ? rows : [], problems };
}

const COLUMN_OF: Record<string, string> = {
  legalName: 'legal_name',
  tradingName: 'trading_name',
  website: 'website',
  services: 'services',
  status: 'status',
  notes: 'notes',
  piElements: 'personal_information',
  maResidents: 'ma_residents',
  recordVolume: 'record_volume',
  accessModes: 'access',
  dataLocation: 'data_location',
  lastAssessedOn: 'last_assessed_on',
};

const PI_EXPORT: Record<PiElement, string> = { ssn: 'ssn', driversLicense: 'drivers_license', financialAccount: 'financial_account', biometric: 'biometric' };

/** Columns of the export: the import columns (so an export can be re-imported elsewhere) and what the portal derived. */
export const EXPORT_COLUMNS = ['id', ...IMPORT_COLUMNS, ...DERIVED_COLUMNS.slice(1)];

/** One CSV line per vendor (the header when called with no vendors and header = true). */
export function exportCsv(
  vendors: Vendor[],
  owners: Map<number, User>,
  contacts: Map<number, VendorContact>,
  header: boolean,
): string {
  return stringify(
    vendors.map((v) => {
      const c = contacts.get(v.id);
      const row: Record<string, string | number> = {
        id: v.id,
        legal_name: v.legalName,
        trading_name: v.tradingName ?? '',
        website: v.website ?? '',
        services: v.services ?? '',
        status: v.status,
        business_owner_email: v.businessOwnerId ? (owners.get(v.businessOwnerId)?.email ?? '') : '',
        personal_information: v.piElements.map((e) => PI_EXPORT[e]).join(';'),
        ma_residents: v.maResidents,
        record_volume: v.recordVolume,
        access: v.accessModes.join(';'),
        data_location: v.dataLocation ?? '',
        last_assessed_on: v.lastAssessedOn ?? '',
        security_contact_name: c?.name ?? '',
        security_contact_email: c?.email ?? '',
        notes: v.notes ?? '',
        in_scope: v.inScope ? 'yes' : 'no',
        computed_tier: v.computedTier,
        tier: v.tier,
        tier_override_reason: v.tierOverrideReason ?? '',
        next_reassessment_on: v.nextReassessmentOn ?? '',
        created_at: v.createdAt.toISOString(),
        updated_at: v.updatedAt.toISOString(),
      };
      return defuseCells(row);
    }),
    { header, columns: EXPORT_COLUMNS },
  );
}
