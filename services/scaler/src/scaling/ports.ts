import type { Transaction } from '@flotilla/event-store';
import type { ScalingPoolState } from './domain/scaling-pool';

/** The pools' rows: locked by the transaction that decides on them, with their stream's version. */
export interface ScalingPoolRows {
  lock(tx: Transaction, agentType: string): Promise<{ readonly state: ScalingPoolState; readonly version: number }>;
  save(tx: Transaction, agentType: string, row: { readonly state: ScalingPoolState; readonly version: number }): Promise<void>;
  all(): Promise<Map<string, ScalingPoolState>>;
}
