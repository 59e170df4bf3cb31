import { telemetry } from './instrumentation';
import { TOPICS } from '@flotilla/contracts';
import { defineService } from '@flotilla/service-kit';
import * as path from 'node:path';
import { AdmissionController } from './admission/admission.controller';
import { AdmissionEventHandlers } from './admission/admission.handlers';
import { ExecutionEventHandlers } from './execution/execution.handlers';
import { ExecutionsController } from './execution/executions.controller';
import { orchestratorConfig } from './orchestrator.config';
import { ADMITTER, TIMER_POLLER } from './orchestrator.constants';
import { orchestratorProviders } from './orchestrator.providers';
import { ReviewRequestHandlers } from './reviews/review-requests.handlers';

void defineService(telemetry, {
  name: 'orchestrator',
  httpPort: 3001,
  config: orchestratorConfig,
  migrationsDir: path.resolve(__dirname, '../migrations'),
  consumers: [
    // Requests and task reports in groups of their own: a burst of new requests never holds up the
    // reports that finish running executions (and free their slots).
    { name: 'requests', topics: [TOPICS.executionRequests] },
    { name: 'task-events', topics: [TOPICS.taskEvents] },
    // Capacity commands, apart from the requests so that they never wait behind a burst of them.
    { name: 'admission', topics: [TOPICS.admissionCommands] },
    // Exhausted customer budgets that hold executions, from the optimizer.
    { name: 'budgets', topics: [TOPICS.budgets] },
    // Review requests (any producer, the notification service's inbound webhooks), apart from the
    // execution requests: a burst of pushes to pull requests never holds up submitted executions.
    { name: 'review-requests', topics: [TOPICS.reviewRequests] },
  ],
  controllers: [ExecutionEventHandlers, AdmissionEventHandlers, ReviewRequestHandlers, ExecutionsController, AdmissionController],
  providers: orchestratorProviders,
  background: [TIMER_POLLER, ADMITTER],
  openApi: { title: 'Flotilla orchestrator', description: 'Submit and cancel executions; set the admission capacity (ops).' },
});
