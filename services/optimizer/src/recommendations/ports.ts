import type { Transaction } from '@flotilla/event-store';
import type { PoolSample } from './domain/over-provisioning';
import type { RecommendationState } from './domain/recommendation';

/** Pool metrics reports as samples: one per instance, agent type and window (a redelivered report is the same row). */
export interface PoolSamples {
  insert(agentType: string, sample: PoolSample): Promise<void>;
  /** Every sample that ended after `since`, per agent type. */
  since(since: number): Promise<Map<string, PoolSample[]>>;
  /** Each instance's busiest report per hour since `since`, as one sample per hour, per agent type. */
  hourly(since: number): Promise<Map<string, PoolSample[]>>;
  /** Forgets reports that ended before `samplesBefore`, and hours before `hoursBefore`. */
  prune(samplesBefore: number, hoursBefore: number): Promise<void>;
}

export interface RecommendationRows {
  save(tx: Transaction, recommendationId: string, agentType: string, state: RecommendationState): Promise<void>;
  list(): Promise<RecommendationState[]>;
  get(recommendationId: string): Promise<RecommendationState | null>;
}
