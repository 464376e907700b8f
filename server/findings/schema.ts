import { z } from 'zod';
import { text } from '../http/forms';
import { SEVERITIES } from '../questionnaires/template';
import { isoDate, optionalText } from '../vendors/schema';
import { FINDING_STATUSES, REMEDIATORS } from './entities';
import { FINDING_AGE_BANDS, type FindingFilter } from './service';

const severity = z.enum(SEVERITIES, { error: `Severity must be one of: ${SEVERITIES.join(', ')}.` });
const remediatedBy = z.enum(REMEDIATORS, { error: 'Who remediates must be "vendor" or "us".' });

/** An owner from the menu ('' for nobody) or a JSON id (null for nobody); the service checks the user is active. */
const ownerId = z.preprocess(
  (v) => (v === '' || v === undefined ? null : v),
  z.coerce.number({ error: 'Owner must be a user.' }).int('Owner must be a user.').positive('Owner must be a user.').nullable(),
);

/** A date that must be given (blank counts as missing). */
const requiredDate = (label: string) =>
  z.string({ error: `${label} is required.` }).pipe(isoDate(label).unwrap().unwrap()).transform((v, ctx) => {
    if (!v) {
      ctx.addIssue({ code: 'custom', message: `${label} is required.` });
      return z.NEVER;
    }
    return v;
  });

/** The fields of a finding a person writes, as the forms and the API send them. */
export const findingFields = {
  title: text('Title', 300),
  severity,
  citation: text('Citation', 300),
  description: optionalText('Description', 5000),
  ownerId: ownerId.optional(),
  remediatedBy,
  remediationPlan: optionalText('Remediation plan', 5000),
  dueDate: isoDate('Due date'),
};

/** The create and edit forms: every field, the remediator defaulting to the vendor. */
export const findingSchema = z.object({ ...findingFields, remediatedBy: remediatedBy.default('vendor') });

export type FindingInput = z.infer<typeof findingSchema>;

/** The API's create body (the vendor comes from the path); unknown fields are refused. */
export const apiCreateFindingSchema = findingSchema.strict();

/** PATCH: any subset of the fields; only the keys sent change. */
export const patchFindingSchema = z.object(findingFields).partial().strict();

/**
 * A status change. A move to "remediation planned" may bring the plan and the due date with it;
 * risk acceptance has its own body (acceptRiskSchema).
 */
export const findingStatusSchema = z.object({
  to: z.enum(FINDING_STATUSES, { error: `New status must be one of: ${FINDING_STATUSES.join(', ')}.` }),
  reason: optionalText('Reason', 2000),
  remediationPlan: optionalText('Remediation plan', 5000),
  dueDate: isoDate('Due date'),
});

export type FindingStatusInput = z.infer<typeof findingStatusSchema>;

/** Risk acceptance: a reason and an expiry date (after today, at most 3 years ahead; the service checks the range). */
export const acceptRiskSchema = z.object({
  reason: text('Reason', 2000),
  expiresOn: requiredDate('Expiry date'),
});

const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);

/** The list's query string: its filters. Shared by the page and the API. */
export const findingListQuerySchema = z.object({
  severity: z.preprocess(blankToUndefined, severity.optional()),
  status: z.preprocess(
    blankToUndefined,
    z.enum(FINDING_STATUSES, { error: `status must be one of: ${FINDING_STATUSES.join(', ')} ("open" includes remediation planned).` }).optional(),
  ),
  overdue: z.preprocess(blankToUndefined, z.enum(['true', 'false'], { error: 'overdue must be true or false.' }).optional()),
  vendor: z.preprocess(blankToUndefined, z.coerce.number({ error: 'vendor must be a vendor id.' }).int('vendor must be a vendor id.').positive('vendor must be a vendor id.').optional()),
  citation: z.preprocess(blankToUndefined, z.string({ error: 'citation must be text.' }).trim().max(200, 'citation must be at most 200 characters.').optional()),
  age: z.preprocess(blankToUndefined, z.enum(FINDING_AGE_BANDS, { error: `age must be one of: ${FINDING_AGE_BANDS.join(', ')}.` }).optional()),
});

export type FindingListQuery = z.infer<typeof findingListQuerySchema>;

/** The service's filter from the parsed query string. */
export function toFindingFilter(q: FindingListQuery): FindingFilter {
  return { severity: q.severity, status: q.status, overdue: q.overdue === undefined ? undefined : q.overdue === 'true', vendorId: q.vendor, citation: q.citation || undefined, age: q.age };
}
