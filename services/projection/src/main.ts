import { telemetry } from './instrumentation';
import { EVENT_SCHEMAS, TOPICS } from '@flotilla/contracts';
import { KafkaEventsTransport } from '@flotilla/messaging';
import { loadConfig, Platform, PlatformModule, platformConfigSchema, runService } from '@flotilla/service-kit';
import { Module } from '@nestjs/common';
import * as path from 'node:path';
import { ExecutionProjectionHandlers } from './application/execution-projection.handlers';
import { ExecutionsController } from './http/executions.controller';
import { ExecutionsRepository } from './infrastructure/executions.repository';
import { EXECUTIONS_REPOSITORY } from './projection.constants';

void runService(telemetry, () => {
  const config = loadConfig(platformConfigSchema.extend({ HTTP_PORT: platformConfigSchema.shape.HTTP_PORT.default(3000) }));
  const platform = new Platform({
    serviceName: 'projection',
    config,
    eventSchemas: EVENT_SCHEMAS,
    telemetry,
    serviceMigrationsDir: path.resolve(__dirname, '../migrations'),
  });
  const transport = new KafkaEventsTransport((handler) =>
    platform.createConsumer({
      name: 'read-models',
      topics: [platform.topic(TOPICS.executions.name), platform.topic(TOPICS.taskEvents.name)],
      handler,
    }),
  );

  @Module({
    imports: [PlatformModule.forPlatform(platform)],
    controllers: [ExecutionProjectionHandlers, ExecutionsController],
    providers: [{ provide: EXECUTIONS_REPOSITORY, useValue: new ExecutionsRepository(platform.store.schema) }],
  })
  class AppModule {}

  return { platform, module: AppModule, transports: [transport] };
});
