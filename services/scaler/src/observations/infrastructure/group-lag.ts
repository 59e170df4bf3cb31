import { physicalTopic, taskDispatchTopic, type AgentType } from '@flotilla/contracts';
import { ConsumerLag } from '@flotilla/messaging';
import type { Kafka } from 'kafkajs';
import type { GroupLag } from '../ports';

/**
 * The lag of a provisioned pool's dispatch group (`flotilla.agent-pool.tasks.<agentType>`, the
 * agent pool's naming) on its topic: every dispatch not committed yet, read by the scaler itself.
 */
export class KafkaGroupLag implements GroupLag {
  private readonly lags = new Map<string, ConsumerLag>();

  constructor(
    private readonly kafka: Kafka,
    private readonly namespace: string | undefined,
  ) {}

  async of(agentType: string): Promise<number> {
    let lag = this.lags.get(agentType);
    if (!lag) {
      lag = new ConsumerLag(this.kafka, physicalTopic(this.namespace, `flotilla.agent-pool.tasks.${agentType}`));
      this.lags.set(agentType, lag);
    }
    return lag.notTaken(physicalTopic(this.namespace, taskDispatchTopic(agentType as AgentType).name));
  }

  async close(): Promise<void> {
    await Promise.all([...this.lags.values()].map((l) => l.close()));
  }
}
