import { PLATFORM, type Platform } from '@flotilla/service-kit';
import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { EXECUTIONS_REPOSITORY } from '../projection.constants';
import type { ExecutionsRepository } from '../infrastructure/executions.repository';

@Controller('v1/executions')
export class ExecutionsController {
  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(EXECUTIONS_REPOSITORY) private readonly executions: ExecutionsRepository,
  ) {}

  @Get(':id')
  async getExecution(@Param('id') id: string) {
    const execution = await this.executions.findById(this.platform.pool, id);
    if (!execution) throw new NotFoundException(`execution ${id} is not known (yet): the read model may lag the events by a moment`);
    return execution;
  }
}
