import { IllegalStateError } from '@flotilla/domain';
import { ApiErrors, RequireRole } from '@flotilla/service-kit';
import { Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { parseInput } from '@flotilla/service-kit';
import type { RebuildProgress, RebuildService } from './rebuild.service';
import { IllegalRebuildTransitionError, RebuildRunningElsewhereError, TruncatedHistoryError } from './domain/rebuild';
import { REBUILD_SERVICE } from '../projection.constants';

const startQuery = z.object({ allowTruncatedHistory: z.enum(['true', 'false'], { message: 'must be true or false' }).optional(), access_token: z.string().optional() }).strict();

/** The rebuild command and its progress; operators only. */
@ApiTags('admin')
@ApiBearerAuth()
@RequireRole('ops')
@Controller('v1/admin/rebuild')
export class RebuildController {
  constructor(@Inject(REBUILD_SERVICE) private readonly rebuild: RebuildService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Rebuild the read models from the start of the topics beside the live ones, then switch',
    description: '202 with the progress once it runs. 409 while one runs, or when retention has deleted events of the topics and allowTruncatedHistory is not true.',
  })
  @ApiQuery({ name: 'allowTruncatedHistory', required: false, enum: ['true', 'false'] })
  @ApiAcceptedResponse({ description: 'The rebuild runs; its progress' })
  @ApiErrors(400, 401, 403, 409)
  async start(@Query() query: unknown): Promise<RebuildProgress> {
    const { allowTruncatedHistory } = parseInput(startQuery, query, '(query)');
    try {
      return await this.rebuild.start({ allowTruncatedHistory: allowTruncatedHistory === 'true' });
    } catch (error) {
      if (error instanceof IllegalRebuildTransitionError || error instanceof RebuildRunningElsewhereError || error instanceof TruncatedHistoryError) {
        throw new IllegalStateError(error.message, 'REBUILD_REFUSED', { cause: error });
      }
      throw error;
    }
  }

  @Get()
  @ApiOperation({ summary: 'Progress of the last rebuild: state, events applied, per-partition position against the end offsets at its start' })
  @ApiOkResponse({ description: 'The progress' })
  @ApiErrors(401, 403)
  progress(): RebuildProgress {
    return this.rebuild.progress();
  }
}
