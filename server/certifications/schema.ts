import { z } from 'zod';
import { text } from '../http/forms';
import { isoDate } from '../vendors/schema';
import { type DisplayStatus, DISPLAY_STATUSES, type CertificationFilter } from './service';
import { CERTIFICATION_PURPOSES } from './template';

const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);

/** The staff form that requests a certification from a vendor contact. */
export const requestSchema = z.object({
  contactId: z.coerce.number({ error: 'Choose a contact.' }).int('Choose a contact.').positive('Choose a contact.'),
  templateId: z.string({ error: 'Choose a certification.' }).min(1, 'Choose a certification.').max(64),
  dueDate: isoDate('Due date'),
  questionnaireId: z.preprocess(blankToUndefined, z.coerce.number({ error: 'questionnaireId must be a questionnaire id.' }).int().positive().optional()),
});

/** The API's request body: unknown fields are refused. */
export const apiRequestSchema = z
  .object({
    contactId: z.number({ error: "contactId must be the id of one of the vendor's contacts." }).int().positive(),
    templateId: z.string({ error: 'templateId is required.' }).min(1).max(64),
    dueDate: isoDate('dueDate'),
    questionnaireId: z.number({ error: 'questionnaireId must be a questionnaire id.' }).int().positive().optional(),
  })
  .strict();

export const revokeSchema = z.object({ reason: text('Reason', 1000) });
export const apiRevokeSchema = revokeSchema.strict();
export const rejectUploadSchema = z.object({ reason: text('Reason', 1000) });

const signer = {
  signerName: text('Full name', 200),
  signerTitle: text('Title', 200),
  signerCompany: text('Company', 300),
};

/** Signing by link: who signs, the typed signature, the attestation, and the hash of the text the page showed. */
export const signSchema = z.object({
  ...signer,
  signature: text('Signature', 200),
  attest: z.literal('on', { error: 'Tick the box to confirm that you have read the whole text and may sign it for the company.' }),
  textSha256: z.string({ error: 'The page was incomplete; reload it and sign again.' }).regex(/^[0-9a-f]{64}$/, 'The page was incomplete; reload it and sign again.'),
});

/** The paper alternative: who signed the uploaded PDF. */
export const uploadSchema = z.object(signer);

export const declineSchema = z.object({
  name: text('Your name', 200),
  reason: text('Reason', 2000),
});

/** The list's query string: its filters. Shared by the page and the API. */
export const listQuerySchema = z.object({
  status: z.preprocess(blankToUndefined, z.enum(DISPLAY_STATUSES as [DisplayStatus, ...DisplayStatus[]], { error: `status must be one of: ${DISPLAY_STATUSES.join(', ')}.` }).optional()),
  template: z.preprocess(blankToUndefined, z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'template must be a template id.').optional()),
  purpose: z.preprocess(blankToUndefined, z.enum(CERTIFICATION_PURPOSES, { error: `purpose must be one of: ${CERTIFICATION_PURPOSES.join(', ')}.` }).optional()),
  vendor: z.preprocess(blankToUndefined, z.coerce.number({ error: 'vendor must be a vendor id.' }).int('vendor must be a vendor id.').positive('vendor must be a vendor id.').optional()),
});

export type CertificationListQuery = z.infer<typeof listQuerySchema>;

/** The service's filter from the parsed query string. */
export function toFilter(q: CertificationListQuery): CertificationFilter {
  return { status: q.status, templateId: q.template, purpose: q.purpose, vendorId: q.vendor };
}
