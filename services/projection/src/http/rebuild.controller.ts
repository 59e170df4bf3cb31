import { BadRequestException, ConflictException, Controller, ForbiddenException, Get, HttpCode, Inject, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { RebuildProgress, RebuildService } from '../application/rebuild.service';
import { IllegalRebuildTransitionError, RebuildRunningElsewhereError, TruncatedHistoryError } from '../domain/rebuild';
import { REBUILD_SERVICE } from '../projection.constants';
import { AuthGuard, type AuthenticatedRequest } from './auth/auth.guard';

/** The rebuild command and its progress; operators only. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AuthGuard)
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
  async start(@Req() request: AuthenticatedRequest, @Query('allowTruncatedHistory') allowTruncatedHistory?: string): Promise<RebuildProgress> {
    this.opsOnly(request);
    if (allowTruncatedHistory !== undefined && !['true', 'false'].includes(allowTruncatedHistory)) {
      throw new BadRequestException('allowTruncatedHistory must be true or false');
    }
    try {
      return await this.rebuild.start({ allowTruncatedHistory: allowTruncatedHistory === 'true' });
    } catch (error) {
      if (error instanceof IllegalRebuildTransitionError || error instanceof RebuildRunningElsewhereError || error instanceof TruncatedHistoryError) throw new ConflictException(error.message);
      throw error;
    }
  }

  @Get()
  @ApiOperation({ summary: 'Progress of the last rebuild: state, events applied, per-partition position against the end offsets at its start' })
  progress(@Req() request: AuthenticatedRequest): RebuildProgress {
    this.opsOnly(request);
    return this.rebuild.progress();
  }

  private opsOnly(request: AuthenticatedRequest): void {
    if (request.principal?.role !== 'ops') throw new ForbiddenException('only role ops may rebuild the read models');
  }
}
