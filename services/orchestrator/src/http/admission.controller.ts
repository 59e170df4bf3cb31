import { Body, Controller, HttpCode, Inject, Put } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { AdmissionCommands } from '../application/admission-commands';
import { MAX_CAPACITY } from '../domain/admission/capacity';
import type { ExecutionSettings } from '../domain/execution/policies';
import { ADMISSION_COMMANDS, EXECUTION_SETTINGS } from '../orchestrator.constants';
import { badRequest } from './bad-request';

const capacitySchema = z
  .object({
    capacity: z.number({ required_error: 'is required' }).int('must be a whole number').min(1, 'must be at least 1').max(MAX_CAPACITY, `must be at most ${MAX_CAPACITY}`),
    reason: z.string().max(500).default('changed through the API'),
  })
  .strict();

/** The same change as an AdmissionCapacityChangeRequested event, for operators. */
@Controller('v1/admission')
export class AdmissionController {
  constructor(
    @Inject(ADMISSION_COMMANDS) private readonly admission: AdmissionCommands,
    @Inject(EXECUTION_SETTINGS) private readonly settings: ExecutionSettings,
  ) {}

  @Put('capacity')
  @HttpCode(200)
  async setCapacity(@Body() body: unknown) {
    const parsed = capacitySchema.safeParse(body ?? {});
    if (!parsed.success) throw badRequest(parsed.error);
    const requestId = `http:${uuidv7()}`;
    const result = await this.admission.changeCapacity({
      type: 'ChangeCapacity',
      requestId,
      capacity: parsed.data.capacity,
      reason: parsed.data.reason,
      defaultCapacity: this.settings.admission.capacity,
      now: Date.now(),
    });
    const changed = result.status === 'applied' ? result.events[0]?.data : undefined;
    return { requestId, previousCapacity: changed?.previousCapacity ?? null, capacity: parsed.data.capacity };
  }
}
