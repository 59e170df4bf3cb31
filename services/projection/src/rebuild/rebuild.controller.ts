import { IllegalStateError } from '@flotilla/domain';
import { ApiErrors, ApiQueryFrom, parseInput, RequireRole } from '@flotilla/service-kit';
import { Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';
import type { RebuildProgress, RebuildService } from './rebuild.service';
import { IllegalRebuildTransitionError, RebuildRunningElsewhereError, TruncatedHistoryError } from './domain/rebuild';
import { REBUILD_SERVICE } from '../projection.constants';

const startQuery = z
  .object({
    allowTruncatedHistory: z.enum(['true', 'false'], { message: 'must be true or false' }).optional().describe('rebuild even when retention has deleted events of the topics'),
    access_token: z.string().optional(),
  })
  .strict();

const PROGRESS_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['state', 'startedAt', 'finishedAt', 'eventsApplied', 'partitions', 'error'],
  properties: {
    state: { type: 'string' },
    startedAt: { type: 'string', format: 'date-time', nullable: true },
    finishedAt: { type: 'string', format: 'date-time', nullable: true },
    eventsApplied: { type: 'integer', minimum: 0 },
    partitions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['topic', 'partition', 'startOffset', 'endOffset', 'position'],
        properties: { topic: { type: 'string' }, partition: { type: 'integer' }, startOffset: { type: 'integer' }, endOffset: { type: 'integer' }, position: { type: 'integer' } },
      },
    },
    error: { type: 'string', nullable: true },
  },
};

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
    description:
      '202 with the progress once it runs. 409 while one runs, or when retention has deleted events of the topics and allowTruncatedHistory is not true. ' +
      'A query parameter not listed here answers 400.',
  })
  @ApiQueryFrom(startQuery)
  @ApiAcceptedResponse({ description: 'The rebuild runs; its progress', schema: PROGRESS_SCHEMA })
  @ApiErrors(400, { status: 409, description: 'A rebuild runs already (here or on another instance), or retention has deleted events and allowTruncatedHistory is not true' })
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
  @ApiOkResponse({ description: 'The progress', schema: PROGRESS_SCHEMA })
  progress(): RebuildProgress {
    return this.rebuild.progress();
  }
}
