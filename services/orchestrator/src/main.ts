import { telemetry } from './instrumentation';
import { EVENT_SCHEMAS, TOPICS } from '@flotilla/contracts';
import { KafkaEventsTransport } from '@flotilla/messaging';
import { loadConfig, Platform, PlatformModule, platformConfigSchema, runService } from '@flotilla/service-kit';
import { Global, Module } from '@nestjs/common';
import * as path from 'node:path';
import { z } from 'zod';
import { loadExecutionSettings } from './infrastructure/execution-settings.loader';
import { EXECUTION_SETTINGS } from './orchestrator.constants';
import { OrchestratorModule } from './orchestrator.module';

const orchestratorConfigSchema = platformConfigSchema.extend({
  HTTP_PORT: platformConfigSchema.shape.HTTP_PORT.default(3001),
  EXECUTION_SETTINGS_FILE: z.string().default(path.resolve(__dirname, '../config/execution-settings.json')),
  // Override the settings file's admission defaults (demo, benchmarks); the runtime value set by an
  // AdmissionCapacityChangeRequested event still wins over both.
  ADMISSION_CAPACITY: z.coerce.number().int().min(1).max(10_000).optional(),
  ADMISSION_PER_CUSTOMER_LIMIT: z.coerce.number().int().min(1).optional(),
});

void runService(telemetry, () => {
  const config = loadConfig(orchestratorConfigSchema);
  const settings = loadExecutionSettings(config.EXECUTION_SETTINGS_FILE, { capacity: config.ADMISSION_CAPACITY, perCustomerLimit: config.ADMISSION_PER_CUSTOMER_LIMIT });
  const platform = new Platform({
    serviceName: 'orchestrator',
    config,
    eventSchemas: EVENT_SCHEMAS,
    telemetry,
    serviceMigrationsDir: path.resolve(__dirname, '../migrations'),
  });
  const transport = new KafkaEventsTransport((handler) =>
    platform.createConsumer({
      name: 'executions',
      topics: [platform.topic(TOPICS.executionRequests.name), platform.topic(TOPICS.taskEvents.name)],
      handler,
    }),
  );
  // Admission's own inputs, apart from the requests so that they never wait behind a burst of them:
  // execution endings (counted by the customers' circuit breakers) and capacity commands.
  const admission = new KafkaEventsTransport((handler) =>
    platform.createConsumer({
      name: 'admission',
      topics: [platform.topic(TOPICS.executions.name), platform.topic(TOPICS.admissionCommands.name)],
      handler,
    }),
  );

  @Global()
  @Module({ providers: [{ provide: EXECUTION_SETTINGS, useFactory: () => settings }], exports: [EXECUTION_SETTINGS] })
  class SettingsModule {}

  @Module({ imports: [PlatformModule.forPlatform(platform), SettingsModule, OrchestratorModule] })
  class AppModule {}

  return { platform, module: AppModule, transports: [transport, admission] };
});
