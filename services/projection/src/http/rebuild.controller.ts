import { ConflictException, Controller, ForbiddenException, Get, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { RebuildProgress, RebuildService } from '../application/rebuild.service';
import { IllegalRebuildTransitionError } from '../domain/rebuild';
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
  @ApiOperation({ summary: 'Rebuild the read models from the start of the topics beside the live ones, then switch; 409 while one runs' })
  async start(@Req() request: AuthenticatedRequest): Promise<RebuildProgress> {
    this.opsOnly(request);
    try {
      return await this.rebuild.start();
    } catch (error) {
      if (error instanceof IllegalRebuildTransitionError) throw new ConflictException(error.message);
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
