import { z } from 'zod';
import { isIsoDate } from '../dates';
import { email, text } from '../http/forms';
import { REASSESSMENT_STARTS } from './entities';
import { ACCESS_MODES, MA_RESIDENTS, PI_ELEMENTS, STATUSES, TIERS, VOLUME_BANDS } from './risk';

/** Optional text: blank becomes null (cleared); absent stays undefined (unchanged, for PATCH). */
export const optionalText = (label: string, max: number) =>
  z
    .string({ error: `${label} must be text.` })
    .trim()
    .max(max, `${label} must be at most ${max} characters.`)
    .transform((v) => (v === '' ? null : v))
    .nullable()
    .optional();

/** A list from a form (one value or repeated keys) or from JSON (an array). */
const listOf = <T extends readonly [string, ...string[]]>(values: T, label: string) =>
  z.preprocess(
    (v) => (v === undefined || v === null || v === '' ? [] : Array.isArray(v) ? v : [v]),
    z.array(z.enum(values, { error: `${label} must be among: ${values.join(', ')}.` })).transform((a) => [...new Set(a)]),
  );

const website = z
  .string({ error: 'Website must be text.' })
  .trim()
  .max(500, 'Website must be at most 500 characters.')
  .transform((v) => (v === '' ? null : /^https?:\/\//i.test(v) ? v : `https://${v}`))
  .refine((v) => v === null || /^https?:\/\/[^\s/$.?#][^\s]*\.[^\s]+$/i.test(v), 'Website must be a web address such as https://example.com.')
  .nullable()
  .optional();

/** A calendar date, not in the future relative to the day the request is checked. */
export const isoDate = (label: string) =>
  z
    .string({ error: `${label} must be a date.` })
    .trim()
    .transform((v) => (v === '' ? null : v))
    // isIsoDate, not new Date(v).toISOString(): an impossible date such as 2026-13-45 would throw.
    .refine((v) => v === null || isIsoDate(v), `${label} must be a date as YYYY-MM-DD.`)
    .nullable()
    .optional();

const ownerId = z.preprocess(
  (v) => (v === '' || v === undefined ? null : v),
  z.coerce.number({ error: 'Business owner must be a user.' }).int('Business owner must be a user.').positive('Business owner must be a user.').nullable(),
);

/** The vendor record and its data profile, as the create and edit forms and the API send them. */
export const vendorFields = {
  legalName: text('Legal name', 300),
  tradingName: optionalText('Trading name', 300),
  website,
  services: optionalText('Services provided', 2000),
  businessOwnerId: ownerId.optional(),
  notes: optionalText('Notes', 5000),
  piElements: listOf(PI_ELEMENTS, 'Personal information'),
  maResidents: z.enum(MA_RESIDENTS, { error: 'Massachusetts residents must be yes, no or unknown.' }).default('unknown'),
  recordVolume: z.enum(VOLUME_BANDS, { error: `Number of records must be one of: ${VOLUME_BANDS.join(', ')}.` }).default('none'),
  accessModes: listOf(ACCESS_MODES, 'How the vendor handles the data'),
  dataLocation: optionalText('Where the data is kept', 500),
  lastAssessedOn: isoDate('Last assessed on'),
  reassessmentStart: z.enum(REASSESSMENT_STARTS, { error: 'When reassessment falls due must be send or notify_owner.' }).optional(),
};

/** Profile rules that involve several fields. */
function checkProfile(v: { piElements: string[]; recordVolume: string; accessModes: string[] }, ctx: z.RefinementCtx): void {
  if (v.piElements.length > 0 && v.recordVolume === 'none') {
    ctx.addIssue({ code: 'custom', path: ['recordVolume'], message: 'Choose the approximate number of records the vendor can reach.' });
  }
  if (v.piElements.length > 0 && v.accessModes.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['accessModes'], message: 'Choose how the vendor handles the personal information.' });
  }
}

export const vendorSchema = z.object(vendorFields).superRefine(checkProfile);

export const createVendorSchema = z
  .object({ ...vendorFields, status: z.enum(STATUSES, { error: `Status must be one of: ${STATUSES.join(', ')}.` }).default('prospect') })
  .superRefine(checkProfile);

/** PATCH: any subset of the fields; the merged record is then checked with vendorSchema. */
export const patchVendorSchema = z.object(vendorFields).partial().strict();

export type VendorInput = z.infer<typeof vendorSchema>;

export const transitionSchema = z.object({
  to: z.enum(STATUSES, { error: `New status must be one of: ${STATUSES.join(', ')}.` }),
  reason: text('Reason', 2000),
});

export const tierOverrideSchema = z.object({
  tier: z.enum(TIERS, { error: `Tier must be one of: ${TIERS.join(', ')}.` }),
  reason: text('Justification', 2000),
});

export const clearOverrideSchema = z.object({ reason: text('Reason', 2000) });

const checkbox = z.preprocess((v) => v === true || v === 'on' || v === 'true' || v === '1' || v === 'yes', z.boolean());

export const contactSchema = z.object({
  name: text('Name', 200),
  email: email(),
  role: optionalText('Role', 200),
  isSecurityContact: checkbox.default(false),
});

export const patchContactSchema = contactSchema.partial().strict();

export const subprocessorSchema = z.object({
  name: text('Name', 300),
  purpose: text('What it does', 500),
  location: optionalText('Location', 200),
});

/** The API's create body: like the form, but unknown fields are refused. */
export const apiCreateVendorSchema = z
  .object({
    ...vendorFields,
    status: z.enum(STATUSES, { error: `Status must be one of: ${STATUSES.join(', ')}.` }).default('prospect'),
    contacts: z.array(contactSchema.strict()).max(50, 'At most 50 contacts.').optional(),
  })
  .strict()
  .superRefine(checkProfile);
