import { telemetry } from './instrumentation';
import { EVENT_SCHEMAS, TOPICS } from '@flotilla/contracts';
import { KafkaEventsTransport } from '@flotilla/messaging';
import { loadConfig, Platform, PlatformModule, platformConfigSchema, runService } from '@flotilla/service-kit';
import { Module } from '@nestjs/common';
import { OrchestratorModule } from './orchestrator.module';

void runService(telemetry, () => {
  const config = loadConfig(platformConfigSchema.extend({ HTTP_PORT: platformConfigSchema.shape.HTTP_PORT.default(3001) }));
  const platform = new Platform({ serviceName: 'orchestrator', config, eventSchemas: EVENT_SCHEMAS, telemetry });
  const transport = new KafkaEventsTransport((handler) =>
    platform.createConsumer({
      name: 'executions',
      topics: [platform.topic(TOPICS.executionRequests.name), platform.topic(TOPICS.taskEvents.name)],
      handler,
    }),
  );

  @Module({ imports: [PlatformModule.forPlatform(platform), OrchestratorModule] })
  class AppModule {}

  return { platform, module: AppModule, transports: [transport] };
});
