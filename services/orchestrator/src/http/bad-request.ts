import { BadRequestException } from '@nestjs/common';
import type { z } from 'zod';

/** 400 naming each field and its problem, both as one message and as a list. */
export function badRequest(error: z.ZodError): BadRequestException {
  const problems = error.issues.map((i) => ({ field: i.path.join('.') || '(body)', problem: i.message }));
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: problems.map((p) => `${p.field}: ${p.problem}`).join('; '), problems });
}
