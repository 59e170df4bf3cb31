import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input: every problem, each naming its field',
  401: 'No token, or a bad or expired one (WWW-Authenticate says why)',
  403: 'The token may not do this: wrong role, or another customer',
  404: 'No such thing (for this token)',
  409: 'The thing is in a state that forbids this',
  412: 'Changed concurrently; retry',
  429: 'Rate limit of the token exceeded (Retry-After)',
};

/** The one error body of every service (service-kit's exception filter). */
export const ERROR_BODY_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    code: { type: 'string', description: 'stable, for machines' },
    message: { type: 'string' },
    problems: { type: 'array', items: { type: 'object', required: ['field', 'problem'], properties: { field: { type: 'string' }, problem: { type: 'string' } } } },
  },
};

/** Documents the error statuses a route can answer, with the one error body. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error', schema: ERROR_BODY_SCHEMA })));
}

/**
 * The OpenAPI schema of a zod schema, so that the document states exactly the constraints the
 * validation enforces (one source for both).
 */
export function openApiSchema(schema: z.ZodTypeAny, io: 'input' | 'output' = 'input'): SchemaObject {
  // Typed loosely on purpose: the converter's generic over every zod type is too deep for the compiler.
  const convert = zodToJsonSchema as unknown as (schema: unknown, options: object) => SchemaObject & { $schema?: string };
  const json = convert(schema, { target: 'openApi3', $refStrategy: 'none', effectStrategy: 'input', pipeStrategy: io });
  delete json.$schema;
  return json;
}
