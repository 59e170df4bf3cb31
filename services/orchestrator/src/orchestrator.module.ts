import { Module } from '@nestjs/common';
import { ExecutionEventHandlers } from './application/execution.handlers';

@Module({ controllers: [ExecutionEventHandlers] })
export class OrchestratorModule {}
