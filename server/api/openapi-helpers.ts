import { z } from 'zod';

/** Building blocks of the OpenAPI document, shared by every feature's part of it. */
export type JsonSchema = Record<string, unknown>;

/** A JSON schema from the zod schema the route validates with, so the two cannot drift. */
export function fromZod(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

export const json = (schema: JsonSchema) => ({ content: { 'application/json': { schema } } });
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const errorResponse = (description: string) => ({ description, ...json(ref('Error')) });
export const idParam = (name: string, what: string) => ({ name, in: 'path', required: true, description: `The ${what}'s id.`, schema: { type: 'integer', minimum: 1 } });

/** The 400, 401 and 403 answers every authenticated route can give; `roles` says who may write. */
export function standardErrors(roles: string) {
  return {
    '400': errorResponse('Invalid input: `fields` names each field and the reason.'),
    '401': errorResponse('Missing, invalid or revoked token.'),
    '403': errorResponse(`The token's user does not have a role that allows this (${roles}).`),
  };
}
