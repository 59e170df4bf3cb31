import { ApiErrors, openApiSchema, parseInput, RequireRole, text } from '@flotilla/service-kit';
import { Body, Controller, HttpCode, Inject, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { ExecutionSettings } from '../execution/domain/policies';
import { ADMISSION_COMMANDS, EXECUTION_SETTINGS } from '../orchestrator.constants';
import type { AdmissionCommands } from './admission-commands';
import { MAX_CAPACITY } from './domain/capacity';

const capacitySchema = z
  .object({
    capacity: z.number({ required_error: 'is required' }).int('must be a whole number').min(1, 'must be at least 1').max(MAX_CAPACITY, `must be at most ${MAX_CAPACITY}`),
    reason: text().max(500).default('changed through the API'),
  })
  .strict();

/** The same change as an AdmissionCapacityChangeRequested event, for operators. */
@ApiTags('admission')
@ApiBearerAuth()
@RequireRole('ops')
@Controller('v1/admission')
export class AdmissionController {
  constructor(
    @Inject(ADMISSION_COMMANDS) private readonly admission: AdmissionCommands,
    @Inject(EXECUTION_SETTINGS) private readonly settings: ExecutionSettings,
  ) {}

  @Put('capacity')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set the global capacity of concurrently running executions (ops)' })
  @ApiBody({ schema: openApiSchema(capacitySchema) })
  @ApiOkResponse({
    description: 'The change, with the previous capacity (null when unchanged)',
    schema: {
      type: 'object',
      required: ['requestId', 'previousCapacity', 'capacity'],
      properties: { requestId: { type: 'string' }, previousCapacity: { type: 'integer', nullable: true }, capacity: { type: 'integer' } },
    },
  })
  @ApiErrors(400)
  async setCapacity(@Body() body: unknown) {
    const input = parseInput(capacitySchema, body);
    const requestId = `http:${uuidv7()}`;
    const result = await this.admission.changeCapacity({
      type: 'ChangeCapacity',
      requestId,
      capacity: input.capacity,
      reason: input.reason,
      defaultCapacity: this.settings.admission.capacity,
      now: Date.now(),
    });
    const changed = result.status === 'applied' ? result.events[0]?.data : undefined;
    return { requestId, previousCapacity: changed?.previousCapacity ?? null, capacity: input.capacity };
  }
}
