import { errorResponse, fromZod, idParam, json, type JsonSchema, ref, standardErrors as standardErrorsFor } from '../api/openapi-helpers';
import { z } from 'zod';
import { pageSizeSchema } from '../vendors/api';
import { apiAmendmentStatusSchema, apiCommentSchema } from './api';
import { AMENDMENT_STATUSES, CLAUSE_STATUSES, CONTRACT_STATUSES, CONTRACT_TYPES, FILE_KINDS } from './entities';
import { amendmentListQuerySchema, apiClauseReviewSchema, apiCreateContractSchema, apiOpenAmendmentSchema, contractListQuerySchema, matrixQuerySchema, patchAmendmentSchema, patchContractSchema } from './schema';



const standardErrors = standardErrorsFor('writes: admin, legal');
const page = (data: JsonSchema, extra: JsonSchema = {}) => json({ type: 'object', properties: { ...extra, data: { type: 'array', items: data }, page: { type: 'integer' }, pageSize: { type: 'integer' }, total: { type: 'integer' } } });

function queryParameters(schema: z.ZodType, docs: Record<string, string>): JsonSchema[] {
  const shape = fromZod(schema) as { properties: Record<string, JsonSchema> };
  return [
    ...Object.entries(shape.properties).map(([name, s]) => ({ name, in: 'query', required: false, description: docs[name], schema: s })),
    { name: 'page', in: 'query', required: false, schema: { type: 'integer', minimum: 1, default: 1 } },
    { name: 'pageSize', in: 'query', required: false, schema: fromZod(pageSizeSchema) },
  ];
}

const CLAUSE_STATES = [...CLAUSE_STATUSES, 'not_reviewed'];
const VENDOR_STATES = [...CLAUSE_STATES, 'no_contract'];

const fileSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    kind: { type: 'string', enum: [...FILE_KINDS] },
    fileName: { type: 'string' },
    mediaType: { type: 'string' },
    size: { type: 'integer' },
    sha256: { type: 'string', description: 'SHA-256 of the plaintext; the file is stored encrypted (AES-256-GCM).' },
    uploadedById: { type: ['integer', 'null'] },
    uploadedAt: { type: 'string', format: 'date-time' },
  },
};

const contractSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    vendorId: { type: 'integer' },
    title: { type: 'string' },
    type: { type: 'string', enum: [...CONTRACT_TYPES] },
    status: { type: 'string', enum: [...CONTRACT_STATUSES], description: 'Only active contracts count towards coverage.' },
    effectiveOn: { type: ['string', 'null'], format: 'date' },
    expiresOn: { type: ['string', 'null'], format: 'date' },
    signedOn: { type: ['string', 'null'], format: 'date' },
    autoRenews: { type: 'boolean' },
    noticeDays: { type: ['integer', 'null'] },
    noticeDeadline: { type: ['string', 'null'], format: 'date', description: 'The expiry date less the notice period.' },
    amendsId: { type: ['integer', 'null'], description: 'The contract of the same vendor this one amends.' },
    notes: { type: ['string', 'null'] },
    legacy: { type: 'boolean', description: 'Entered into no later than 2010-03-01 (grandfathering under 201 CMR 17.03(2)(f) ended 2012-03-01).' },
    legacyNote: { type: ['string', 'null'] },
    document: { oneOf: [ref('ContractFile'), { type: 'null' }], description: 'The current signed document (metadata).' },
    createdById: { type: ['integer', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    clauses: {
      type: 'array',
      description: 'On single-contract responses: each catalogue clause that applies to the vendor.',
      items: {
        type: 'object',
        properties: {
          clauseId: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'string', enum: CLAUSE_STATES },
          reference: { type: ['string', 'null'] },
          note: { type: ['string', 'null'] },
          amendmentId: { type: ['integer', 'null'], description: 'The executed amendment request that added it.' },
          reviewedById: { type: ['integer', 'null'] },
          reviewedAt: { type: ['string', 'null'], format: 'date-time' },
        },
      },
    },
  },
};

const amendmentSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    vendorId: { type: 'integer' },
    title: { type: 'string' },
    status: { type: 'string', enum: [...AMENDMENT_STATUSES] },
    ownerId: { type: ['integer', 'null'] },
    targetDate: { type: ['string', 'null'], format: 'date' },
    overdue: { type: 'boolean', description: 'Still open and past its target date.' },
    ageDays: { type: 'integer', description: 'Whole days since it was opened (until it closed).' },
    items: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, contractId: { type: 'integer' }, clauseId: { type: 'string' }, statusAtOpening: { type: 'string', enum: ['missing', 'partial'] }, reference: { type: ['string', 'null'] } } } },
    sentAt: { type: ['string', 'null'], format: 'date-time' },
    negotiatingAt: { type: ['string', 'null'], format: 'date-time' },
    closedAt: { type: ['string', 'null'], format: 'date-time', description: 'When it was executed, refused or withdrawn.' },
    closingReason: { type: ['string', 'null'] },
    findingId: { type: ['integer', 'null'], description: 'The finding a refusal opened.' },
    createdById: { type: ['integer', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    comments: { type: 'array', description: 'On single-request responses.', items: { type: 'object', properties: { id: { type: 'integer' }, authorId: { type: ['integer', 'null'] }, body: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } } } },
    files: { type: 'array', description: 'On single-request responses: redlines and the executed document.', items: ref('ContractFile') },
  },
};

const coverageSchema: JsonSchema = {
  type: 'object',
  properties: {
    vendorId: { type: 'integer' },
    legalName: { type: 'string' },
    coveragePercent: { type: ['integer', 'null'], description: 'Covered share of the applicable clauses (rounded down); null when none applies.' },
    activeContracts: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, title: { type: 'string' }, type: { type: 'string' } } } },
    clauses: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          clauseId: { type: 'string' },
          title: { type: 'string' },
          basis: { type: 'string', enum: ['rule', 'guidance', 'best_practice'] },
          citations: { type: 'array', items: { type: 'string' } },
          status: { type: 'string', enum: VENDOR_STATES, description: 'Combined over the active contracts.' },
          contracts: { type: 'array', items: { type: 'object', properties: { contractId: { type: 'integer' }, status: { type: 'string', enum: CLAUSE_STATES }, reference: { type: ['string', 'null'] }, note: { type: ['string', 'null'] } } } },
        },
      },
    },
    notApplicable: { type: 'array', items: { type: 'object', properties: { clauseId: { type: 'string' }, appliesWhen: { type: 'string' } } } },
  },
};

const executeBody = {
  required: true,
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['document', 'references'],
        properties: {
          document: { type: 'string', format: 'binary', description: 'The executed amendment: PDF or Word (.docx), judged by its content.' },
          references: { type: 'string', description: 'JSON object: amendment item id -> the section of the executed amendment that adds it, e.g. {"12": "§14.2"}. Every item needs one.' },
        },
      },
    },
  },
};

/** The OpenAPI paths of the contracts API (merged into the document by api/openapi.ts). */
export function contractPaths(): Record<string, JsonSchema> {
  return {
    '/contracts': {
      get: {
        summary: 'List contracts across vendors (filtered, by vendor name, paginated)',
        parameters: queryParameters(contractListQuerySchema, { vendor: 'Vendor id.', type: 'Contract type.', status: 'Contract status.', notice: '"due": active contracts whose notice deadline is within 30 days or passed.' }),
        responses: { '200': page(ref('Contract')), ...standardErrors },
      },
    },
    '/vendors/{id}/contracts': {
      parameters: [idParam('id', 'vendor')],
      get: { summary: "A vendor's contracts", responses: { '200': json({ type: 'object', properties: { data: { type: 'array', items: ref('Contract') } } }), ...standardErrors, '404': errorResponse('No such vendor.') } },
      post: {
        summary: 'Record a contract (admin, legal); the signed document is uploaded separately. Expiry must be after the effective date; automatic renewal needs a notice period.',
        requestBody: { required: true, ...json(fromZod(apiCreateContractSchema)) },
        responses: { '201': { description: 'Created', ...json(ref('Contract')) }, ...standardErrors, '404': errorResponse('No such vendor.') },
      },
    },
    '/contracts/{id}': {
      parameters: [idParam('id', 'contract')],
      get: { summary: 'One contract with its clause checklist', responses: { '200': json(ref('Contract')), ...standardErrors, '404': errorResponse('No such contract.') } },
      patch: {
        summary: 'Change some fields of a contract (admin, legal); fields not sent stay as they are',
        requestBody: { required: true, ...json(fromZod(patchContractSchema)) },
        responses: { '200': json(ref('Contract')), ...standardErrors, '404': errorResponse('No such contract.') },
      },
    },
    '/contracts/{id}/clauses/{clauseId}': {
      parameters: [idParam('id', 'contract'), { name: 'clauseId', in: 'path', required: true, description: 'A clause id of the catalogue, such as CL-BRN.', schema: { type: 'string' } }],
      put: {
        summary: 'Record what a contract says about one clause (admin, legal): present needs a reference, partial a note, not_applicable a reason (note); not_reviewed clears the review',
        requestBody: { required: true, ...json(fromZod(apiClauseReviewSchema)) },
        responses: { '200': json(ref('Contract')), ...standardErrors, '404': errorResponse('No such contract, or no such clause in the catalogue.') },
      },
    },
    '/contracts/{id}/document': {
      parameters: [idParam('id', 'contract')],
      post: {
        summary: 'Upload the signed document (admin, legal), multipart field "document": PDF or Word (.docx), stored encrypted; it replaces the current one, which stays on record',
        requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', required: ['document'], properties: { document: { type: 'string', format: 'binary' } } } } } },
        responses: { '201': json(ref('ContractFile')), ...standardErrors, '404': errorResponse('No such contract.'), '413': errorResponse('The file is larger than EVIDENCE_MAX_FILE_MB.') },
      },
    },
    '/vendors/{id}/coverage': {
      parameters: [idParam('id', 'vendor')],
      get: { summary: "A vendor's clause coverage, combined over its active contracts", responses: { '200': json(ref('Coverage')), ...standardErrors, '404': errorResponse('No such vendor.') } },
    },
    '/coverage': {
      get: {
        summary: 'The portfolio matrix: vendors by clause (filtered, paginated), and per clause the share of in-scope active vendors covered',
        parameters: queryParameters(matrixQuerySchema, {
          tier: 'Inherent risk tier in force.',
          status: 'Vendor status.',
          scope: '"in": service providers under 201 CMR 17.02; "out": the others.',
          missing: 'A clause id: vendors it applies to whose active contracts do not cover it.',
        }),
        responses: {
          '200': page(
            { type: 'object', properties: { vendorId: { type: 'integer' }, legalName: { type: 'string' }, status: { type: 'string' }, tier: { type: 'string' }, inScope: { type: 'boolean' }, activeContracts: { type: 'integer' }, coveragePercent: { type: ['integer', 'null'] }, clauses: { type: 'object', additionalProperties: { type: 'string', enum: VENDOR_STATES }, description: 'Clause id -> state; clauses that do not apply to the vendor are left out.' } } },
            { shares: { type: 'array', items: { type: 'object', properties: { clauseId: { type: 'string' }, covered: { type: 'integer' }, of: { type: 'integer' }, percent: { type: ['integer', 'null'] } } } } },
          ),
          ...standardErrors,
        },
      },
    },
    '/amendments': {
      get: {
        summary: 'List amendment requests (open ones unless told otherwise; oldest first, paginated)',
        parameters: queryParameters(amendmentListQuerySchema, { status: '"open" (default): drafted, sent or negotiating; "all"; or one status.', owner: 'Owner user id, or "none".', overdue: '"true": open and past the target date.', vendor: 'Vendor id.' }),
        responses: { '200': page(ref('Amendment')), ...standardErrors },
      },
    },
    '/vendors/{id}/amendments': {
      parameters: [idParam('id', 'vendor')],
      post: {
        summary: "Open an amendment request (admin, legal) for missing or partial clauses of the vendor's active contracts",
        requestBody: { required: true, ...json(fromZod(apiOpenAmendmentSchema)) },
        responses: { '201': { description: 'Created', ...json(ref('Amendment')) }, ...standardErrors, '404': errorResponse('No such vendor.'), '409': errorResponse('A clause is already part of another open request.') },
      },
    },
    '/amendments/{id}': {
      parameters: [idParam('id', 'amendment request')],
      get: { summary: 'One amendment request with its comments and files', responses: { '200': json(ref('Amendment')), ...standardErrors, '404': errorResponse('No such amendment request.') } },
      patch: {
        summary: 'Change the title, owner or target date of an open request (admin, legal)',
        requestBody: { required: true, ...json(fromZod(patchAmendmentSchema)) },
        responses: { '200': json(ref('Amendment')), ...standardErrors, '404': errorResponse('No such amendment request.'), '409': errorResponse('The request is closed.') },
      },
    },
    '/amendments/{id}/status': {
      parameters: [idParam('id', 'amendment request')],
      post: {
        summary:
          'Move a request one step (admin, legal): drafted -> sent or withdrawn; sent -> negotiating, refused or withdrawn; negotiating -> refused or withdrawn (executed: see /execute). Refused and withdrawn need a reason; a refusal opens a finding citing 201 CMR 17.03(2)(f)(2).',
        requestBody: { required: true, ...json(fromZod(apiAmendmentStatusSchema)) },
        responses: { '200': json(ref('Amendment')), ...standardErrors, '404': errorResponse('No such amendment request.'), '409': errorResponse('That move is not allowed from the current status; the message names the allowed moves.') },
      },
    },
    '/amendments/{id}/execute': {
      parameters: [idParam('id', 'amendment request')],
      post: {
        summary: 'Execute a request in negotiation (admin, legal) with the executed document: each clause becomes present in its contract at the section given. Only once.',
        requestBody: executeBody,
        responses: { '200': json(ref('Amendment')), ...standardErrors, '404': errorResponse('No such amendment request.'), '409': errorResponse('The request is not in negotiation (or was executed already).'), '413': errorResponse('The file is larger than EVIDENCE_MAX_FILE_MB.') },
      },
    },
    '/amendments/{id}/comments': {
      parameters: [idParam('id', 'amendment request')],
      post: {
        summary: "Add a comment to a request's thread (admin, legal)",
        requestBody: { required: true, ...json(fromZod(apiCommentSchema)) },
        responses: { '201': json({ type: 'object', properties: { id: { type: 'integer' }, authorId: { type: ['integer', 'null'] }, body: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } } }), ...standardErrors, '404': errorResponse('No such amendment request.') },
      },
    },
  };
}

/** The component schemas the contract paths refer to. */
export const contractComponentSchemas: Record<string, JsonSchema> = { Contract: contractSchema, ContractFile: fileSchema, Amendment: amendmentSchema, Coverage: coverageSchema };
