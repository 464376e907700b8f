import { errorResponse, fromZod, idParam, json, type JsonSchema, ref, standardErrors as standardErrorsFor } from '../api/openapi-helpers';
import { pageSizeSchema } from '../vendors/api';
import { CERTIFICATION_PURPOSES } from './template';
import { apiRequestSchema, apiRevokeSchema, listQuerySchema } from './schema';
import { DISPLAY_STATUSES } from './service';



const standardErrors = standardErrorsFor('requests, resends, withdrawals: admin, legal; confirmations: admin, legal, reviewer');

function listParameters(): JsonSchema[] {
  const shape = fromZod(listQuerySchema) as { properties: Record<string, JsonSchema> };
  const docs: Record<string, string> = {
    status: 'requested, uploaded (awaiting confirmation), signed (in force, more than 30 days left), expiring (30 days or less left), expired, declined or revoked (withdrawn).',
    template: 'Template id, such as annual-security.',
    purpose: 'annual or disposal.',
    vendor: 'Vendor id.',
  };
  return [
    ...Object.entries(shape.properties).map(([name, schema]) => ({ name, in: 'query', required: false, description: docs[name], schema })),
    { name: 'page', in: 'query', required: false, schema: { type: 'integer', minimum: 1, default: 1 } },
    { name: 'pageSize', in: 'query', required: false, schema: fromZod(pageSizeSchema) },
  ];
}

const hashCheck = { type: 'object', properties: { stored: { type: ['string', 'null'] }, computed: { type: ['string', 'null'] }, ok: { type: 'boolean' } } };

/** The certification schemas, for components.schemas. */
export const certificationComponentSchemas: Record<string, JsonSchema> = {
  Certification: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      vendorId: { type: 'integer' },
      template: { type: 'object', properties: { id: { type: 'string' }, version: { type: 'integer' }, contentHash: { type: 'string' } } },
      purpose: { type: 'string', enum: [...CERTIFICATION_PURPOSES] },
      title: { type: 'string' },
      status: { type: 'string', enum: [...DISPLAY_STATUSES] },
      recipient: { type: 'object', properties: { name: { type: 'string' }, email: { type: 'string' } } },
      dueDate: { type: 'string', format: 'date' },
      questionnaireId: { type: ['integer', 'null'], description: 'Set when requested as the last step of a questionnaire.' },
      requestedById: { type: ['integer', 'null'] },
      requestedAt: { type: 'string', format: 'date-time' },
      validityMonths: { type: ['integer', 'null'], description: 'Null: does not expire.' },
      textSha256: { type: 'string', description: 'SHA-256 of the title, a blank line and the statement (UTF-8), exactly as shown to the signer.' },
      statement: { type: 'string', description: 'On single reads: the statement as requested and signed.' },
      signature: {
        type: ['object', 'null'],
        description: 'Once signed online, or uploaded as a signed PDF (confirmedAt set once staff confirm it).',
        properties: {
          method: { type: 'string', enum: ['link', 'upload'] },
          signerName: { type: 'string' },
          signerTitle: { type: 'string' },
          signerCompany: { type: 'string' },
          typedSignature: { type: ['string', 'null'] },
          signedAt: { type: 'string', format: 'date-time' },
          ip: { type: ['string', 'null'] },
          userAgent: { type: ['string', 'null'] },
          linkId: { type: ['integer', 'null'] },
          file: { type: ['object', 'null'], properties: { name: { type: 'string' }, size: { type: 'integer' }, sha256: { type: 'string' } } },
          confirmedById: { type: ['integer', 'null'] },
          confirmedAt: { type: ['string', 'null'], format: 'date-time' },
          sealSha256: { type: ['string', 'null'], description: 'SHA-256 over the text hash and every signature field, fixed at signing.' },
        },
      },
      expiresOn: { type: ['string', 'null'], format: 'date', description: 'Last day in force; null while unsigned or when it does not expire.' },
      declined: { type: ['object', 'null'], properties: { by: { type: 'string' }, reason: { type: 'string' }, at: { type: 'string', format: 'date-time' } } },
      revoked: { type: ['object', 'null'], properties: { reason: { type: 'string' }, at: { type: 'string', format: 'date-time' } } },
    },
  },
  CertificationVerification: {
    type: 'object',
    properties: {
      verified: { type: 'boolean', description: 'Every check below passed.' },
      checkedAt: { type: 'string', format: 'date-time' },
      text: hashCheck,
      seal: { ...hashCheck, type: ['object', 'null'] },
      file: { ...hashCheck, type: ['object', 'null'], description: 'For an uploaded signed PDF: the stored file decrypted and hashed again.' },
    },
  },
};

/** The /api/v1 paths of certifications (test/api.test.ts checks none is missing). */
export function certificationPaths(): Record<string, JsonSchema> {
  const one = json(ref('Certification'));
  const notFound = errorResponse('No such certification.');
  return {
    '/certifications': {
      get: {
        summary: 'List written certifications across vendors (filtered, paginated)',
        parameters: listParameters(),
        responses: { '200': json({ type: 'object', properties: { data: { type: 'array', items: ref('Certification') }, page: { type: 'integer' }, pageSize: { type: 'integer' }, total: { type: 'integer' } } }), ...standardErrors },
      },
    },
    '/vendors/{id}/certifications': {
      parameters: [idParam('id', 'vendor')],
      get: { summary: "A vendor's certifications, newest request first", responses: { '200': json({ type: 'object', properties: { data: { type: 'array', items: ref('Certification') } } }), ...standardErrors, '404': errorResponse('No such vendor.') } },
      post: {
        summary: "Request a certification from one of the vendor's contacts (admin, legal): the text is fixed with its SHA-256 and emailed as a personal link, which the response carries once",
        requestBody: { required: true, ...json(fromZod(apiRequestSchema)) },
        responses: { '201': json({ allOf: [ref('Certification'), { type: 'object', properties: { link: { type: 'string' } } }] }), ...standardErrors, '404': errorResponse('No such vendor.'), '409': errorResponse('The vendor is terminated.') },
      },
    },
    '/certifications/{id}': {
      parameters: [idParam('id', 'certification')],
      get: { summary: 'One certification with its statement, signature record and hashes', responses: { '200': one, ...standardErrors, '404': notFound } },
    },
    '/certifications/{id}/verify': {
      parameters: [idParam('id', 'certification')],
      post: { summary: 'Recompute the SHA-256 of the stored text, the seal and any uploaded PDF, and compare them with those fixed at signing (any role; audited)', responses: { '200': json(ref('CertificationVerification')), ...standardErrors, '404': notFound } },
    },
    '/certifications/{id}/resend': {
      parameters: [idParam('id', 'certification')],
      post: { summary: 'Send a new link (the old one answers 410); an overdue request gets a new due date (admin, legal)', responses: { '200': json({ allOf: [ref('Certification'), { type: 'object', properties: { link: { type: 'string' } } }] }), ...standardErrors, '404': notFound, '409': errorResponse('Only a requested certification can be resent.') } },
    },
    '/certifications/{id}/revoke': {
      parameters: [idParam('id', 'certification')],
      post: { summary: 'Withdraw an open request with a reason; its link answers 410 (admin, legal)', requestBody: { required: true, ...json(fromZod(apiRevokeSchema)) }, responses: { '200': one, ...standardErrors, '404': notFound, '409': errorResponse('A signed, declined or withdrawn certification cannot be withdrawn.') } },
    },
    '/certifications/{id}/confirm': {
      parameters: [idParam('id', 'certification')],
      post: { summary: 'Confirm an uploaded signed PDF: the certification becomes signed from the upload time (admin, legal, reviewer)', responses: { '200': one, ...standardErrors, '404': notFound, '409': errorResponse('No uploaded copy is waiting for confirmation.') } },
    },
  };
}
