import { telemetry } from './instrumentation';
import { AGENT_TYPES, EVENT_SCHEMAS, isAgentType, taskDispatchTopic, TOPICS } from '@flotilla/contracts';
import { KafkaEventsTransport } from '@flotilla/messaging';
import { loadConfig, Platform, PlatformModule, platformConfigSchema, runService } from '@flotilla/service-kit';
import { Module } from '@nestjs/common';
import { z } from 'zod';
import * as os from 'node:os';
import { AGENT_POOL_SETTINGS, RUNNING_ATTEMPTS, type AgentPoolSettings } from './agent-pool.constants';
import { RunningAttempts } from './application/running-attempts';
import { TaskRunnerHandlers } from './application/task-runner.handlers';
import * as path from 'node:path';
import { loadExecutors } from './infrastructure/executors/executor-registry';

const agentPoolConfigSchema = platformConfigSchema.extend({
  HTTP_PORT: platformConfigSchema.shape.HTTP_PORT.default(3002),
  AGENT_TYPES: z
    .string()
    .default(AGENT_TYPES.join(','))
    .transform((v) => v.split(',').map((t) => t.trim()).filter(Boolean))
    .refine((types) => types.every(isAgentType), { message: `must list known agent types (${AGENT_TYPES.join(', ')})` }),
  POOL_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(8),
  TASK_TIMEOUT_MS: z.coerce.number().int().min(1).default(300_000),
  EXECUTORS_FILE: z.string().default(path.resolve(__dirname, '../config/executors.json')),
  HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(50).default(5_000),
  SYNTHETIC_MIN_DURATION_MS: z.coerce.number().min(0).default(20),
  SYNTHETIC_MAX_DURATION_MS: z.coerce.number().min(0).default(100),
  SYNTHETIC_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
});

void runService(telemetry, () => {
  const config = loadConfig(agentPoolConfigSchema);
  const platform = new Platform({ serviceName: 'agent-pool', config, eventSchemas: EVENT_SCHEMAS, telemetry });
  const executorFor = loadExecutors(config.EXECUTORS_FILE, {
    minDurationMs: config.SYNTHETIC_MIN_DURATION_MS,
    maxDurationMs: Math.max(config.SYNTHETIC_MIN_DURATION_MS, config.SYNTHETIC_MAX_DURATION_MS),
    failureRate: config.SYNTHETIC_FAILURE_RATE,
    heartbeatEveryMs: Math.max(50, Math.floor(config.HEARTBEAT_INTERVAL_MS / 2)),
  });
  const settings: AgentPoolSettings = {
    concurrencyPerPool: config.POOL_CONCURRENCY,
    taskTimeoutMs: config.TASK_TIMEOUT_MS,
    heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_MS,
    executorFor,
  };
  const transport = new KafkaEventsTransport((handler) =>
    platform.createConsumer({
      name: 'tasks',
      topics: config.AGENT_TYPES.filter(isAgentType).map((t) => platform.topic(taskDispatchTopic(t).name)),
      handler,
      concurrencyPerPartition: config.POOL_CONCURRENCY * 4,
    }),
  );

  // Every instance reads every cancellation (its own consumer group), from a topic apart from the
  // dispatches, so a cancellation never queues behind the very task it cancels.
  const control = new KafkaEventsTransport((handler) =>
    platform.createConsumer({
      name: `control.${os.hostname()}.${process.pid}`,
      topics: [platform.topic(TOPICS.taskControl.name)],
      handler,
      fromBeginning: false,
    }),
  );

  @Module({
    imports: [PlatformModule.forPlatform(platform)],
    controllers: [TaskRunnerHandlers],
    providers: [
      { provide: AGENT_POOL_SETTINGS, useValue: settings },
      { provide: RUNNING_ATTEMPTS, useValue: new RunningAttempts() },
    ],
  })
  class AppModule {}

  return { platform, module: AppModule, transports: [transport, control] };
});
