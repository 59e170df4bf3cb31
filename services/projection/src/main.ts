import { telemetry } from './instrumentation';
import { defineService } from '@flotilla/service-kit';
import { CostsController } from './costs/costs.controller';
import { DashboardController } from './dashboard/dashboard.controller';
import { StreamController } from './live-stream/stream.controller';
import { NotificationsController } from './notifications/notifications.controller';
import { projectionConfig } from './projection.config';
import { MIGRATIONS_DIR, projectionProviders, READ_MODEL_TOPICS } from './projection.providers';
import { ReadModelHandlers } from './read-models/read-model.handlers';
import { ReadModelsController } from './read-models/read-models.controller';
import { RebuildController } from './rebuild/rebuild.controller';
import { ScalingController } from './scaling/scaling.controller';
import { TracesController } from './traces/traces.controller';

void defineService(telemetry, {
  name: 'projection',
  httpPort: 3000,
  config: projectionConfig,
  migrationsDir: MIGRATIONS_DIR,
  // In offset order per partition: the projection's checkpoints (last offset applied) rely on it.
  consumers: [{ name: 'read-models', topics: READ_MODEL_TOPICS, ordering: 'partition' }],
  controllers: [ReadModelHandlers, ReadModelsController, CostsController, ScalingController, NotificationsController, StreamController, DashboardController, RebuildController, TracesController],
  providers: projectionProviders,
  openApi: {
    title: 'Flotilla query API',
    description: 'Read models of executions, customers, alerts and SLA violations, costs, budgets and recommendations, scaling (pools, timelines, decisions, sagas), webhook notifications (subscriptions with the health of their endpoints, deliveries with their attempts); a live stream of their changes; the trace of each execution, from Jaeger. Bearer JWT: role ops sees all, role customer its own data.',
  },
});
