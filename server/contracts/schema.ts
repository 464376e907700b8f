import { z } from 'zod';
import { text } from '../http/forms';
import { isoDate, optionalText } from '../vendors/schema';
import { STATUSES as VENDOR_STATUSES, TIERS } from '../vendors/risk';
import { AMENDMENT_STATUSES, CLAUSE_STATUSES, CONTRACT_STATUSES, CONTRACT_TYPES } from './entities';

const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);
const blankToNull = (v: unknown) => (v === '' || v === undefined ? null : v);

/** A form checkbox ("on") or a JSON boolean. */
const checkbox = z.preprocess((v) => v === true || v === 'on' || v === 'true' || v === '1' || v === 'yes', z.boolean());

/** An id chosen from a menu ('' for none) or given in JSON (null for none). */
const optionalId = (label: string) =>
  z.preprocess(blankToNull, z.coerce.number({ error: `${label} must be an id.` }).int(`${label} must be an id.`).positive(`${label} must be an id.`).nullable());

const contractType = z.enum(CONTRACT_TYPES, { error: `Type must be one of: ${CONTRACT_TYPES.join(', ')}.` });
const contractStatus = z.enum(CONTRACT_STATUSES, { error: `Status must be one of: ${CONTRACT_STATUSES.join(', ')}.` });

const noticeDays = z.preprocess(
  blankToNull,
  z.coerce
    .number({ error: 'Notice period must be a number of days.' })
    .int('Notice period must be a whole number of days.')
    .min(0, 'Notice period cannot be negative.')
    .max(3650, 'Notice period must be at most 3650 days.')
    .nullable(),
);

/** The fields of a contract a person writes; the service checks the rules that join them (dates, renewal). */
export const contractFields = {
  title: text('Title', 300),
  type: contractType,
  status: contractStatus,
  effectiveOn: isoDate('Effective date'),
  expiresOn: isoDate('Expiry date'),
  signedOn: isoDate('Signed on'),
  autoRenews: checkbox,
  noticeDays: noticeDays.optional(),
  amendsId: optionalId('The contract it amends').optional(),
  notes: optionalText('Notes', 5000),
};

/** The new-contract and edit forms: every field; status active and no automatic renewal unless said. */
export const contractSchema = z.object({ ...contractFields, status: contractStatus.default('active'), autoRenews: checkbox.default(false) });

export type ContractInput = z.infer<typeof contractSchema>;

/** The API's create body; unknown fields are refused. */
export const apiCreateContractSchema = contractSchema.strict();

/** PATCH: any subset; only the keys sent change. */
export const patchContractSchema = z.object(contractFields).partial().strict();

/** What a person records about one clause of one contract; "not_reviewed" clears the review. */
export const clauseReviewSchema = z.object({
  status: z.enum([...CLAUSE_STATUSES, 'not_reviewed'], { error: `Status must be one of: ${[...CLAUSE_STATUSES, 'not_reviewed'].join(', ')}.` }),
  reference: optionalText('Section reference', 100),
  note: optionalText('Note', 2000),
});

export type ClauseReviewInput = z.infer<typeof clauseReviewSchema>;

/** The API body for one clause (PUT /contracts/{id}/clauses/{clauseId}). */
export const apiClauseReviewSchema = clauseReviewSchema.strict();

const amendmentFields = {
  title: optionalText('Title', 300),
  ownerId: optionalId('Owner').optional(),
  targetDate: isoDate('Target date'),
};

/** A contract and clause chosen for an amendment, as the form sends it: "<contractId>:<clauseId>". */
const formItem = z
  .string()
  .regex(/^\d{1,9}:CL-[A-Z0-9]{2,12}$/, 'Choose clauses from the list.')
  .transform((s) => {
    const [contractId, clauseId] = s.split(':') as [string, string];
    return { contractId: Number(contractId), clauseId };
  });

/** The open-amendment form: the chosen items (checkboxes), title, owner, target date and a first comment. */
export const openAmendmentSchema = z.object({
  ...amendmentFields,
  items: z.preprocess((v) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]), z.array(formItem).min(1, 'Choose at least one missing or partial clause.').max(200, 'At most 200 clauses in one amendment.')),
  comment: optionalText('Comment', 5000),
});

export type OpenAmendmentInput = z.infer<typeof openAmendmentSchema>;

/** The API's open body: items as objects; unknown fields are refused. */
export const apiOpenAmendmentSchema = z
  .object({
    ...amendmentFields,
    items: z
      .array(z.object({ contractId: z.number({ error: 'contractId must be a contract id.' }).int().positive(), clauseId: z.string({ error: 'clauseId must be a clause id.' }).max(32) }).strict(), { error: 'items must be a list of { contractId, clauseId }.' })
      .min(1, 'Choose at least one missing or partial clause.')
      .max(200, 'At most 200 clauses in one amendment.'),
    comment: optionalText('Comment', 5000),
  })
  .strict();

/** Changing an open amendment's title, owner or target date. */
export const editAmendmentSchema = z.object(amendmentFields);
export const patchAmendmentSchema = z.object(amendmentFields).partial().strict();

/** A move along the negotiation; executing has its own action, which takes the executed document. */
export const amendmentStatusSchema = z.object({
  to: z.enum(AMENDMENT_STATUSES, { error: `New status must be one of: ${AMENDMENT_STATUSES.join(', ')}.` }),
  reason: optionalText('Reason', 2000),
});

export const commentSchema = z.object({ body: text('Comment', 5000) });

/** The list of contracts: its filters, in the address. */
export const contractListQuerySchema = z.object({
  vendor: z.preprocess(blankToUndefined, z.coerce.number({ error: 'vendor must be a vendor id.' }).int('vendor must be a vendor id.').positive('vendor must be a vendor id.').optional()),
  type: z.preprocess(blankToUndefined, contractType.optional()),
  status: z.preprocess(blankToUndefined, contractStatus.optional()),
  notice: z.preprocess(blankToUndefined, z.enum(['due'], { error: 'notice must be "due".' }).optional()),
});

export type ContractListQuery = z.infer<typeof contractListQuerySchema>;

/** The portfolio matrix: its filters, in the address (the service checks the clause id against the catalogue). */
export const matrixQuerySchema = z.object({
  tier: z.preprocess(blankToUndefined, z.enum(TIERS, { error: `tier must be one of: ${TIERS.join(', ')}.` }).optional()),
  status: z.preprocess(blankToUndefined, z.enum(VENDOR_STATUSES, { error: `status must be one of: ${VENDOR_STATUSES.join(', ')}.` }).optional()),
  scope: z.preprocess(blankToUndefined, z.enum(['in', 'out'], { error: 'scope must be "in" or "out".' }).optional()),
  missing: z.preprocess(blankToUndefined, z.string({ error: 'missing must be a clause id.' }).regex(/^CL-[A-Z0-9]{2,12}$/, 'missing must be a clause id such as CL-BRN.').optional()),
});

export type MatrixQuery = z.infer<typeof matrixQuerySchema>;

/** The amendments list: its filters, in the address; "open" (drafted, sent, negotiating) when no status is given. */
export const amendmentListQuerySchema = z.object({
  status: z.preprocess(blankToUndefined, z.enum(['open', 'all', ...AMENDMENT_STATUSES], { error: `status must be open, all or one of: ${AMENDMENT_STATUSES.join(', ')}.` }).optional()),
  owner: z.preprocess(blankToUndefined, z.union([z.literal('none'), z.coerce.number().int().positive()], { error: 'owner must be a user id or "none".' }).optional()),
  overdue: z.preprocess(blankToUndefined, z.enum(['true', 'false'], { error: 'overdue must be true or false.' }).optional()),
  vendor: z.preprocess(blankToUndefined, z.coerce.number({ error: 'vendor must be a vendor id.' }).int('vendor must be a vendor id.').positive('vendor must be a vendor id.').optional()),
});

export type AmendmentListQuery = z.infer<typeof amendmentListQuerySchema>;
