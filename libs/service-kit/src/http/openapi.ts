import { applyDecorators } from '@nestjs/common';
import { ApiParam, ApiQuery, ApiResponse, type OpenAPIObject } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input: every problem, each naming its field',
  401: 'No token, or a bad or expired one (WWW-Authenticate says why)',
  403: 'The token may not do this: wrong role, or another customer',
  404: 'No such thing (for this token)',
  409: 'The thing is in a state that forbids this',
  412: 'Changed concurrently; retry',
  413: 'The body is larger than the service accepts (1 MiB)',
  429: 'Rate limit of the token exceeded (Retry-After)',
  503: 'A dependency is unavailable; retry later',
};

/** The one error body of every service (service-kit's exception filter). */
export const ERROR_BODY_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    code: { type: 'string', description: 'stable, for machines: VALIDATION_FAILED when the input does not fit the schema; another code for a refusal the schema cannot state' },
    message: { type: 'string' },
    problems: { type: 'array', items: { type: 'object', required: ['field', 'problem'], properties: { field: { type: 'string' }, problem: { type: 'string' } } } },
  },
};

/** Where every service's document keeps the error body (see documentService). */
const ERROR_BODY_REF = { $ref: '#/components/schemas/Error' };

/**
 * Documents the error statuses a route's handler can answer, with the one error body; a description
 * of the route's own replaces the generic one. The guard's statuses (401, 403, 429) are added to
 * every route that needs a token by documentService, where the guard is configured.
 */
export function ApiErrors(...statuses: (number | { status: number; description: string })[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((entry) => {
      const { status, description } = typeof entry === 'number' ? { status: entry, description: DESCRIPTIONS[entry] ?? 'Error' } : entry;
      return ApiResponse({ status, description, schema: ERROR_BODY_REF });
    }),
  );
}

/**
 * The OpenAPI schema of a zod schema, so that the document states exactly the constraints the
 * validation enforces (one source for both).
 */
export function openApiSchema(schema: z.ZodTypeAny, io: 'input' | 'output' = 'input'): SchemaObject {
  // Typed loosely on purpose: the converter's generic over every zod type is too deep for the compiler.
  const convert = zodToJsonSchema as unknown as (schema: unknown, options: object) => SchemaObject & { $schema?: string };
  // An optional value on its own converts to `anyOf: [{ not: {} }, …]`; its optionality is the parameter's `required`.
  const json = convert(schema instanceof z.ZodOptional ? schema.unwrap() : schema, { target: 'openApi3', $refStrategy: 'none', effectStrategy: 'input', pipeStrategy: io });
  delete json.$schema;
  return json;
}

/**
 * One query parameter per field of the zod object a handler parses its query with: the schema,
 * whether it is required and its description (zod's `.describe`) all come from that object. Fields
 * the document states elsewhere (`access_token`, a security scheme) are left out with `omit`.
 */
export function ApiQueryFrom(schema: z.AnyZodObject, { omit = ['access_token'] }: { omit?: readonly string[] } = {}): MethodDecorator {
  return applyDecorators(
    ...Object.entries(schema.shape as Record<string, z.ZodTypeAny>)
      .filter(([name]) => !omit.includes(name))
      .map(([name, field]) => ApiQuery({ name, required: !field.isOptional(), description: field.description, schema: openApiSchema(field) })),
  );
}

/** A path parameter, with the zod schema its handler parses it with. */
export function ApiPathParam(name: string, schema: z.ZodTypeAny): MethodDecorator {
  return ApiParam({ name, description: schema.description, schema: openApiSchema(schema) });
}

export interface DocumentedGuard {
  /** Whether the service rate-limits tokens (429 with Retry-After). */
  readonly rateLimited: boolean;
}

/**
 * Completes a service's document with what every route shares, stated once where it is configured:
 * the error body as a component; `?access_token=` beside the bearer header; the guard's answers (401, 403, and 429 where tokens are
 * rate-limited) on every operation that needs a token; 413 on every operation that takes a body.
 */
export function documentService(document: OpenAPIObject, guard: DocumentedGuard): OpenAPIObject {
  document.components = { ...document.components, schemas: { ...document.components?.schemas, Error: ERROR_BODY_SCHEMA } };
  const guardStatuses = [401, 403, ...(guard.rateLimited ? [429] : [])];
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item[method];
      if (!operation) continue;
      const security = operation.security ?? document.security ?? [];
      // The guard reads the token from `?access_token=` too, wherever it reads the header.
      if (security.some((requirement) => 'bearer' in requirement) && !security.some((requirement) => 'access_token' in requirement)) {
        operation.security = [...security, { access_token: [] }];
      }
      const statuses = [...(security.length > 0 ? guardStatuses : []), ...(operation.requestBody ? [413] : [])];
      for (const status of statuses) {
        operation.responses[status] ??= { description: DESCRIPTIONS[status], content: { 'application/json': { schema: ERROR_BODY_REF } } };
      }
    }
  }
  return document;
}
