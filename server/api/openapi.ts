import { errorResponse, fromZod, idParam, json, type JsonSchema, ref, standardErrors as standardErrorsFor } from './openapi-helpers';
import { certificationComponentSchemas, certificationPaths } from '../certifications/openapi';
import { contractComponentSchemas, contractPaths } from '../contracts/openapi';
import { apiAcceptRiskSchema, apiFindingStatusSchema } from '../findings/api';
import { FINDING_STATUSES, REMEDIATORS } from '../findings/entities';
import { apiCreateFindingSchema, findingListQuerySchema, patchFindingSchema } from '../findings/schema';
import { apiSendSchema } from '../questionnaires/api';
import { apiClarificationSchema, apiDecisionSchema, apiMarksSchema } from '../reviews/api';
import { SEVERITIES } from '../questionnaires/template';
import { pageSizeSchema } from '../vendors/api';
import { listQuerySchema } from '../vendors/routes';
import { apiCreateVendorSchema, contactSchema, patchContactSchema, patchVendorSchema, transitionSchema } from '../vendors/schema';
import { ACCESS_MODES, MA_RESIDENTS, PI_ELEMENTS, STATUSES, TIERS, VOLUME_BANDS } from '../vendors/risk';




const standardErrors = standardErrorsFor('see each route');

function queryParameters(): JsonSchema[] {
  const shape = fromZod(listQuerySchema) as { properties: Record<string, JsonSchema> };
  const docs: Record<string, string> = {
    q: 'Text the legal or trading name contains.',
    status: 'Pipeline status.',
    tier: 'Inherent risk tier in force.',
    owner: 'Business owner user id, or "none".',
    scope: '"in": service providers under 201 CMR 17.02; "out": the others.',
    assessment: 'Where the vendor stands against its assessment cycle; "outside_cycle": never assessed or overdue.',
    sort: 'Sort key.',
    dir: 'Sort direction.',
  };
  return [
    ...Object.entries(shape.properties).map(([name, schema]) => ({ name, in: 'query', required: false, description: docs[name], schema })),
    { name: 'page', in: 'query', required: false, schema: { type: 'integer', minimum: 1, default: 1 } },
    { name: 'pageSize', in: 'query', required: false, schema: fromZod(pageSizeSchema) },
  ];
}

function findingQueryParameters(): JsonSchema[] {
  const shape = fromZod(findingListQuerySchema) as { properties: Record<string, JsonSchema> };
  const docs: Record<string, string> = {
    severity: 'Severity.',
    status: 'Status; "open" matches open and remediation planned.',
    overdue: '"true": past the due date while open or remediation planned, or risk acceptance expired; "false": neither.',
    vendor: 'Vendor id.',
    citation: 'Text the citation contains (any case; % and _ are literal).',
    age: 'Days since the finding was recorded: under 30, 30 to 89, or 90 and more.',
  };
  return [
    ...Object.entries(shape.properties).map(([name, schema]) => ({ name, in: 'query', required: false, description: docs[name], schema })),
    { name: 'page', in: 'query', required: false, schema: { type: 'integer', minimum: 1, default: 1 } },
    { name: 'pageSize', in: 'query', required: false, schema: fromZod(pageSizeSchema) },
  ];
}

const findingSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    vendorId: { type: 'integer' },
    source: { type: 'string', enum: ['generated', 'manual'] },
    questionnaireId: { type: ['integer', 'null'], description: 'For generated findings: the questionnaire whose answer caused it.' },
    questionId: { type: ['string', 'null'] },
    title: { type: 'string' },
    severity: { type: 'string', enum: [...SEVERITIES] },
    citation: { type: 'string', description: 'The rule exactly; several separated by "; ".' },
    description: { type: ['string', 'null'] },
    answerText: { type: ['string', 'null'], description: 'For generated findings: the answer as the vendor gave it.' },
    ownerId: { type: ['integer', 'null'] },
    remediatedBy: { type: 'string', enum: [...REMEDIATORS] },
    remediationPlan: { type: ['string', 'null'] },
    dueDate: { type: ['string', 'null'], format: 'date' },
    status: { type: 'string', enum: [...FINDING_STATUSES] },
    riskAcceptedById: { type: ['integer', 'null'] },
    riskAcceptanceReason: { type: ['string', 'null'] },
    riskAcceptanceExpiresOn: { type: ['string', 'null'], format: 'date' },
    createdById: { type: ['integer', 'null'], description: 'Null for generated findings.' },
    overdue: { type: 'boolean', description: 'Past its due date while open or remediation planned, or its risk acceptance expired.' },
    ageDays: { type: 'integer', description: 'Whole days since it was recorded.' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    closedAt: { type: ['string', 'null'], format: 'date-time', description: 'When it was resolved or closed.' },
  },
};

const vendorSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    legalName: { type: 'string' },
    tradingName: { type: ['string', 'null'] },
    website: { type: ['string', 'null'] },
    services: { type: ['string', 'null'] },
    businessOwnerId: { type: ['integer', 'null'] },
    status: { type: 'string', enum: [...STATUSES] },
    notes: { type: ['string', 'null'] },
    piElements: { type: 'array', items: { type: 'string', enum: [...PI_ELEMENTS] } },
    maResidents: { type: 'string', enum: [...MA_RESIDENTS] },
    recordVolume: { type: 'string', enum: [...VOLUME_BANDS] },
    accessModes: { type: 'array', items: { type: 'string', enum: [...ACCESS_MODES] } },
    dataLocation: { type: ['string', 'null'] },
    inScope: { type: 'boolean', description: 'A service provider under 201 CMR 17.02 (has access to personal information of Massachusetts residents).' },
    computedTier: { type: 'string', enum: [...TIERS] },
    tier: { type: 'string', enum: [...TIERS], description: 'The tier in force: a reviewer override, else the computed tier.' },
    tierOverride: { type: ['string', 'null'], enum: [...TIERS, null] },
    tierOverrideReason: { type: ['string', 'null'] },
    lastAssessedOn: { type: ['string', 'null'], format: 'date' },
    nextReassessmentOn: { type: ['string', 'null'], format: 'date' },
    reassessmentStart: { type: 'string', enum: ['send', 'notify_owner'], description: 'When reassessment falls due: send the annual-reassessment questionnaire to the security contact automatically, or tell the business owner.' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    contacts: { type: 'array', items: ref('Contact'), description: 'On single-vendor responses.' },
    subprocessors: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, purpose: { type: 'string' }, location: { type: ['string', 'null'] } } } },
  },
};

/** The OpenAPI 3 description of every /api/v1 route (test/api.test.ts checks none is missing). */
export function openApiDocument(baseUrl: string): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Oversight API',
      version: '1.0.0',
      description: 'Vendor inventory, questionnaires and findings for scripts and other systems. Authenticate with a personal API token (account page) as `Authorization: Bearer <token>`; the token acts with its user\'s role.',
    },
    servers: [{ url: `${baseUrl}/api/v1` }],
    security: [{ bearer: [] }],
    paths: {
      '/openapi.json': { get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3 document' } } } },
      '/vendors': {
        get: {
          summary: 'List vendors (filtered, sorted, paginated)',
          parameters: queryParameters(),
          responses: {
            '200': json({ type: 'object', properties: { data: { type: 'array', items: ref('Vendor') }, page: { type: 'integer' }, pageSize: { type: 'integer' }, total: { type: 'integer' } } }),
            ...standardErrors,
          },
        },
        post: {
          summary: 'Create a vendor (admin, procurement)',
          requestBody: { required: true, ...json(fromZod(apiCreateVendorSchema)) },
          responses: { '201': { description: 'Created', ...json(ref('Vendor')) }, ...standardErrors, '409': errorResponse('A vendor with this legal name exists.') },
        },
      },
      '/vendors/{id}': {
        parameters: [idParam('id', 'vendor')],
        get: { summary: 'One vendor with its contacts and subprocessors', responses: { '200': json(ref('Vendor')), ...standardErrors, '404': errorResponse('No such vendor.') } },
        patch: {
          summary: 'Change some fields of a vendor (admin, procurement); fields not sent stay as they are',
          requestBody: { required: true, ...json(fromZod(patchVendorSchema)) },
          responses: { '200': json(ref('Vendor')), ...standardErrors, '404': errorResponse('No such vendor.'), '409': errorResponse('The legal name is taken.') },
        },
      },
      '/vendors/{id}/status': {
        parameters: [idParam('id', 'vendor')],
        post: {
          summary: 'Move a vendor along the pipeline with a reason (admin, procurement)',
          requestBody: { required: true, ...json(fromZod(transitionSchema)) },
          responses: { '200': json(ref('Vendor')), ...standardErrors, '404': errorResponse('No such vendor.'), '409': errorResponse('That move is not allowed from the current status.') },
        },
      },
      '/vendors/{id}/contacts': {
        parameters: [idParam('id', 'vendor')],
        get: { summary: "A vendor's contacts", responses: { '200': json({ type: 'object', properties: { data: { type: 'array', items: ref('Contact') } } }), ...standardErrors, '404': errorResponse('No such vendor.') } },
        post: {
          summary: 'Add a contact (admin, procurement); a new security contact replaces the previous one',
          requestBody: { required: true, ...json(fromZod(contactSchema.strict())) },
          responses: { '201': json(ref('Contact')), ...standardErrors, '404': errorResponse('No such vendor.') },
        },
      },
      '/vendors/{id}/contacts/{contactId}': {
        parameters: [idParam('id', 'vendor'), idParam('contactId', 'contact')],
        patch: {
          summary: 'Change a contact (admin, procurement)',
          requestBody: { required: true, ...json(fromZod(patchContactSchema)) },
          responses: { '200': json(ref('Contact')), ...standardErrors, '404': errorResponse('No such vendor or contact.') },
        },
        delete: { summary: 'Remove a contact (admin, procurement)', responses: { '204': { description: 'Removed' }, ...standardErrors, '404': errorResponse('No such vendor or contact.') } },
      },
      '/vendors/{id}/questionnaires': {
        parameters: [idParam('id', 'vendor')],
        get: { summary: "A vendor's questionnaires", responses: { '200': json({ type: 'object', properties: { data: { type: 'array', items: ref('QuestionnaireSummary') } } }), ...standardErrors, '404': errorResponse('No such vendor.') } },
        post: {
          summary: 'Send a questionnaire to one of the vendor\'s contacts (admin, procurement); the response carries the link, shown only here',
          requestBody: { required: true, ...json(fromZod(apiSendSchema)) },
          responses: { '201': json({ allOf: [ref('QuestionnaireSummary'), { type: 'object', properties: { link: { type: 'string' } } }] }), ...standardErrors, '404': errorResponse('No such vendor.'), '409': errorResponse('The vendor is terminated.') },
        },
      },
      '/questionnaires/{id}/review': {
        parameters: [idParam('id', 'questionnaire')],
        post: {
          summary: 'Mark questions of a submitted questionnaire: accepted, clarify or finding, with an internal comment and a message to the vendor (admin, reviewer)',
          requestBody: { required: true, ...json(fromZod(apiMarksSchema)) },
          responses: { '200': json({ type: 'object', properties: { changed: { type: 'integer' } } }), ...standardErrors, '404': errorResponse('No such questionnaire.'), '409': errorResponse('The questionnaire is not submitted.') },
        },
      },
      '/questionnaires/{id}/clarifications': {
        parameters: [idParam('id', 'questionnaire')],
        post: {
          summary: 'Return a submitted questionnaire to the vendor for the questions named, each with its message; the same link reopens only those (admin, reviewer)',
          requestBody: { required: true, ...json(fromZod(apiClarificationSchema)) },
          responses: { '201': json({ type: 'object', properties: { round: { type: 'integer' }, questions: { type: 'array', items: { type: 'object' } }, requestedAt: { type: 'string', format: 'date-time' } } }), ...standardErrors, '404': errorResponse('No such questionnaire.'), '409': errorResponse('The questionnaire is not submitted.') },
        },
      },
      '/questionnaires/{id}/decision': {
        parameters: [idParam('id', 'questionnaire')],
        post: {
          summary: "Approve (sets the vendor's assessment dates) or reject a submitted questionnaire, with a reason (admin, reviewer)",
          requestBody: { required: true, ...json(fromZod(apiDecisionSchema)) },
          responses: { '200': json({ type: 'object', properties: { id: { type: 'integer' }, status: { type: 'string' }, decisionReason: { type: 'string' }, decidedAt: { type: 'string', format: 'date-time' } } }), ...standardErrors, '404': errorResponse('No such questionnaire.'), '409': errorResponse('The questionnaire is not submitted.') },
        },
      },
      '/questionnaires/{id}': {
        parameters: [idParam('id', 'questionnaire')],
        get: {
          summary: 'One questionnaire: status, progress, answers by question id, evidence metadata and the questions as sent',
          responses: { '200': json({ allOf: [ref('QuestionnaireSummary'), { type: 'object', properties: { progress: { type: 'object' }, answers: { type: 'object' }, evidence: { type: 'array', items: { type: 'object' } }, questions: { type: 'object' } } }] }), ...standardErrors, '404': errorResponse('No such questionnaire.') },
        },
      },
      '/findings': {
        get: {
          summary: 'List findings across vendors (filtered, newest first, paginated)',
          parameters: findingQueryParameters(),
          responses: {
            '200': json({ type: 'object', properties: { data: { type: 'array', items: ref('Finding') }, page: { type: 'integer' }, pageSize: { type: 'integer' }, total: { type: 'integer' } } }),
            ...standardErrors,
          },
        },
      },
      '/vendors/{id}/findings': {
        parameters: [idParam('id', 'vendor')],
        post: {
          summary: 'Record a finding for a vendor by hand (admin, reviewer); it starts open',
          requestBody: { required: true, ...json(fromZod(apiCreateFindingSchema)) },
          responses: { '201': { description: 'Created', ...json(ref('Finding')) }, ...standardErrors, '404': errorResponse('No such vendor.') },
        },
      },
      '/findings/{id}': {
        parameters: [idParam('id', 'finding')],
        get: { summary: 'One finding', responses: { '200': json(ref('Finding')), ...standardErrors, '404': errorResponse('No such finding.') } },
        patch: {
          summary: 'Change some fields of a finding (admin, reviewer); fields not sent stay as they are',
          requestBody: { required: true, ...json(fromZod(patchFindingSchema)) },
          responses: { '200': json(ref('Finding')), ...standardErrors, '404': errorResponse('No such finding.') },
        },
      },
      '/findings/{id}/status': {
        parameters: [idParam('id', 'finding')],
        post: {
          summary:
            'Move a finding (admin, reviewer): open -> remediation_planned, resolved or closed; remediation_planned -> resolved, closed or open; risk_accepted -> open or closed; resolved or closed -> open. Remediation planned needs a plan and a due date, which may come with the move.',
          requestBody: { required: true, ...json(fromZod(apiFindingStatusSchema)) },
          responses: { '200': json(ref('Finding')), ...standardErrors, '404': errorResponse('No such finding.'), '409': errorResponse('That move is not allowed from the current status; the message names the allowed moves.') },
        },
      },
      '/findings/{id}/accept-risk': {
        parameters: [idParam('id', 'finding')],
        post: {
          summary: 'Accept the risk of an open finding until a date after today and at most 3 years ahead (admin, reviewer other than the one who recorded it)',
          requestBody: { required: true, ...json(fromZod(apiAcceptRiskSchema)) },
          responses: {
            '200': json(ref('Finding')),
            ...standardErrors,
            '403': errorResponse('The role does not allow this, or the token\'s user recorded the finding (acceptance needs a second person).'),
            '404': errorResponse('No such finding.'),
            '409': errorResponse('The finding is not open or remediation planned.'),
          },
        },
      },
      ...contractPaths(),
      ...certificationPaths(),
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A personal API token (starts with ovs_).' } },
      schemas: {
        Vendor: vendorSchema,
        Finding: findingSchema,
        ...contractComponentSchemas,
        ...certificationComponentSchemas,
        QuestionnaireSummary: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            vendorId: { type: 'integer' },
            title: { type: 'string' },
            template: { type: 'object', properties: { id: { type: 'string' }, version: { type: 'integer' }, contentHash: { type: 'string' } } },
            status: { type: 'string', enum: ['sent', 'in_progress', 'submitted', 'returned', 'approved', 'rejected', 'expired', 'revoked'] },
            recipient: { type: 'object', properties: { name: { type: 'string' }, email: { type: 'string' } } },
            dueDate: { type: 'string', format: 'date' },
            sentAt: { type: 'string', format: 'date-time' },
            firstOpenedAt: { type: ['string', 'null'], format: 'date-time' },
            submittedAt: { type: ['string', 'null'], format: 'date-time' },
          },
        },
        Contact: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, email: { type: 'string' }, role: { type: ['string', 'null'] }, isSecurityContact: { type: 'boolean' } } },
        Error: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              properties: {
                status: { type: 'integer' },
                message: { type: 'string' },
                fields: { type: 'object', additionalProperties: { type: 'string' }, description: 'Field name -> reason.' },
              },
            },
          },
        },
      },
    },
  };
}
