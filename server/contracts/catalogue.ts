import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseYamlFile } from '../data-files';
import { ROOT_DIR } from '../paths';
import { SEVERITIES, type Severity } from '../questionnaires/template';
import { PI_ELEMENT_PHRASES, PI_ELEMENTS, type PiElement } from '../vendors/risk';

/**
 * The clause catalogue: the clauses a contract with a service provider should contain, as a
 * versioned YAML data file (clauses/catalogue.yaml) validated when loaded. The schema below is the
 * definition of the format; README.md ("Contracts and clause coverage") describes it for people.
 */

/** The shipped catalogue. */
export const CATALOGUE_FILE = path.join(ROOT_DIR, 'clauses', 'catalogue.yaml');

/** Why a clause belongs in a contract: the rule cited requires it, guidance lists it, or it is best practice. */
export const CLAUSE_BASES = ['rule', 'guidance', 'best_practice'] as const;
export type ClauseBasis = (typeof CLAUSE_BASES)[number];

export const BASIS_LABELS: Record<ClauseBasis, string> = {
  rule: 'Required by the rule cited',
  guidance: 'Listed by the guidance cited',
  best_practice: 'Best practice, not required by 201 CMR 17.00',
};

const clauseId = z.string().regex(/^CL-[A-Z0-9]{2,12}$/, 'must look like CL-XXXX (upper-case letters and digits after "CL-")');

const conditions = z
  .object({
    /** The vendor can reach at least one personal-information element. */
    personal_information: z.boolean().optional(),
    /** The vendor is a service provider under 201 CMR 17.02 (in scope). */
    in_scope: z.boolean().optional(),
    /** The vendor can reach at least one of these elements. */
    pi_elements: z.array(z.enum(PI_ELEMENTS, { error: `must be among ${PI_ELEMENTS.join(', ')}` })).min(1).optional(),
    /** The vendor has (true) or has no (false) subprocessors on record. */
    subprocessors: z.boolean().optional(),
  })
  .strict();

const clauseSchema = z
  .object({
    id: clauseId,
    title: z.string().trim().min(3).max(200),
    must_say: z.string().trim().min(10).max(2000),
    citations: z.array(z.string().trim().min(3, 'must name the source').max(120)).min(1, 'needs at least one citation'),
    basis: z.enum(CLAUSE_BASES, { error: `must be one of ${CLAUSE_BASES.join(', ')}` }),
    severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }),
    applies_when: conditions.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    // The portal never claims that 201 CMR 17.00 requires what it does not (design invariant 9).
    if (c.basis === 'best_practice') {
      c.citations.forEach((cite, i) => {
        if (/201\s*CMR\s*17/i.test(cite)) ctx.addIssue({ code: 'custom', path: ['citations', i], message: 'a best-practice clause must not cite 201 CMR 17.00 as its source' });
      });
    }
  });

export const catalogueSchema = z
  .object({
    version: z.number().int().positive(),
    clauses: z.array(clauseSchema).min(1, 'needs at least one clause'),
  })
  .strict()
  .superRefine((cat, ctx) => {
    const seen = new Set<string>();
    cat.clauses.forEach((c, i) => {
      if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: ['clauses', i, 'id'], message: `clause id "${c.id}" is used twice` });
      seen.add(c.id);
    });
  });

export interface ClauseConditions {
  personalInformation?: boolean;
  inScope?: boolean;
  piElements?: PiElement[];
  subprocessors?: boolean;
}

/** One clause of the catalogue. */
export interface Clause {
  id: string;
  title: string;
  mustSay: string;
  citations: string[];
  basis: ClauseBasis;
  /** The risk a contract without the clause carries (used for the finding a refusal opens). */
  severity: Severity;
  appliesWhen: ClauseConditions;
}

/** What applicability is decided from: the vendor's record. */
export interface VendorFacts {
  piElements: PiElement[];
  inScope: boolean;
  subprocessorCount: number;
}

export interface LoadedCatalogue {
  file: string;
  valid: boolean;
  /** Each problem as "file: path.inside: reason". */
  errors: string[];
  version: number | null;
  /** SHA-256 of the validated content. */
  contentHash: string | null;
  clauses: Clause[];
}

/** Parses and validates the catalogue's text; never throws. */
export function parseCatalogue(file: string, text: string): LoadedCatalogue {
  const name = path.basename(file);
  const invalid = (errors: string[]): LoadedCatalogue => ({ file: name, valid: false, errors, version: null, contentHash: null, clauses: [] });
  const result = parseYamlFile(name, text, catalogueSchema);
  if (!result.ok) return invalid(result.errors);
  const parsed = { data: result.data };
  const clauses: Clause[] = parsed.data.clauses.map((c) => ({
    id: c.id,
    title: c.title,
    mustSay: c.must_say,
    citations: c.citations,
    basis: c.basis,
    severity: c.severity,
    appliesWhen: {
      personalInformation: c.applies_when?.personal_information,
      inScope: c.applies_when?.in_scope,
      piElements: c.applies_when?.pi_elements,
      subprocessors: c.applies_when?.subprocessors,
    },
  }));
  const contentHash = crypto.createHash('sha256').update(JSON.stringify(parsed.data)).digest('hex');
  return { file: name, valid: true, errors: [], version: parsed.data.version, contentHash, clauses };
}

/** Reads and validates a catalogue file; a missing or unreadable file is reported, not thrown. */
export function loadCatalogue(file: string): LoadedCatalogue {
  try {
    return parseCatalogue(file, fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return { file: path.basename(file), valid: false, errors: [`${path.basename(file)}: ${(err as Error).message}`], version: null, contentHash: null, clauses: [] };
  }
}

/** Whether a clause applies to a vendor: every condition it names must hold. */
export function appliesTo(clause: Pick<Clause, 'appliesWhen'>, facts: VendorFacts): boolean {
  const w = clause.appliesWhen;
  if (w.personalInformation !== undefined && (facts.piElements.length > 0) !== w.personalInformation) return false;
  if (w.inScope !== undefined && facts.inScope !== w.inScope) return false;
  if (w.piElements && !w.piElements.some((e) => facts.piElements.includes(e))) return false;
  if (w.subprocessors !== undefined && (facts.subprocessorCount > 0) !== w.subprocessors) return false;
  return true;
}

/** When a clause applies, in words ("when the vendor can reach personal information and has subprocessors"). */
export function applicabilityText(clause: Pick<Clause, 'appliesWhen'>): string {
  const w = clause.appliesWhen;
  const parts: string[] = [];
  if (w.personalInformation === true) parts.push('can reach personal information');
  if (w.personalInformation === false) parts.push('cannot reach personal information');
  if (w.inScope === true) parts.push('is a service provider under 201 CMR 17.02');
  if (w.inScope === false) parts.push('is not a service provider under 201 CMR 17.02');
  if (w.piElements) parts.push(`can reach ${w.piElements.map((e) => PI_ELEMENT_PHRASES[e]).join(' or ')}`);
  if (w.subprocessors === true) parts.push('has subprocessors');
  if (w.subprocessors === false) parts.push('has no subprocessors');
  return parts.length ? `When the vendor ${parts.join(' and ')}.` : 'Always.';
}

/**
 * The same test as appliesTo() as SQL over a vendors row aliased "v", for the portfolio queries.
 * Identifiers are double-quoted, which SQLite and PostgreSQL both read.
 */
export function applicabilitySql(clause: Pick<Clause, 'appliesWhen'>, prefix: string): { sql: string; params: Record<string, unknown> } {
  const w = clause.appliesWhen;
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  if (w.personalInformation !== undefined) parts.push(w.personalInformation ? `"v"."piElements" <> ''` : `"v"."piElements" = ''`);
  if (w.inScope !== undefined) {
    params[`${prefix}_scope`] = w.inScope;
    parts.push(`"v"."inScope" = :${prefix}_scope`);
  }
  if (w.piElements) {
    const any = w.piElements.map((e, i) => {
      params[`${prefix}_pi${i}`] = `%,${e},%`;
      return `(',' || "v"."piElements" || ',') LIKE :${prefix}_pi${i}`;
    });
    parts.push(`(${any.join(' OR ')})`);
  }
  if (w.subprocessors !== undefined) {
    parts.push(`${w.subprocessors ? '' : 'NOT '}EXISTS (SELECT 1 FROM "vendor_subprocessors" "sp" WHERE "sp"."vendorId" = "v"."id")`);
  }
  return { sql: parts.length ? `(${parts.join(' AND ')})` : '(1 = 1)', params };
}

/**
 * The catalogue in force. Read at start and when an administrator asks; a file that fails
 * validation never stops the portal: its problems are listed, and the last valid version read by
 * this process stays in force (none at all when the portal started with a broken file).
 */
export class ClauseCatalogue {
  private inForce: LoadedCatalogue | null = null;
  private lastRead!: LoadedCatalogue;

  constructor(readonly file: string = CATALOGUE_FILE) {
    this.reload();
  }

  /** Reads the file again; returns what was read (valid or not). */
  reload(): LoadedCatalogue {
    this.lastRead = loadCatalogue(this.file);
    if (this.lastRead.valid) this.inForce = this.lastRead;
    return this.lastRead;
  }

  /** The latest reading of the file, with its problems when it is invalid. */
  get status(): LoadedCatalogue & { inForceVersion: number | null; inForceHash: string | null } {
    return { ...this.lastRead, inForceVersion: this.inForce?.version ?? null, inForceHash: this.inForce?.contentHash ?? null };
  }

  /** The clauses in force, in file order. */
  list(): Clause[] {
    return this.inForce?.clauses ?? [];
  }

  get(id: string): Clause | undefined {
    return this.list().find((c) => c.id === id);
  }

  /** The clauses in force that apply to a vendor. */
  applicable(facts: VendorFacts): Clause[] {
    return this.list().filter((c) => appliesTo(c, facts));
  }
}
