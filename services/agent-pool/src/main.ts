import { telemetry } from './instrumentation';
import { defineService } from '@flotilla/service-kit';
import { AGENT_POOL_SERVICE, AGENT_POOL_WORKER } from './agent-pool.service';

// One program, two roles: the agent pool service, or one worker of a provisioned pool started by it.
void defineService(telemetry, process.env.AGENT_POOL_ROLE === 'worker' ? AGENT_POOL_WORKER : AGENT_POOL_SERVICE);
