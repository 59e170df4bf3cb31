import type { Transaction } from '@flotilla/event-store';
import type { PoolSagasState } from './domain/pool-sagas';
import type { ScaleSagaState } from './domain/scale-saga';

export interface Versioned<State> {
  readonly state: State;
  readonly version: number;
}

/** The sagas' rows: each pool's one-saga-at-a-time state and each saga's, locked while a transaction decides on them. */
export interface SagaRows {
  lockPool(tx: Transaction, agentType: string): Promise<Versioned<PoolSagasState> | null>;
  savePool(tx: Transaction, agentType: string, row: Versioned<PoolSagasState>): Promise<void>;
  lockSaga(tx: Transaction, sagaId: string): Promise<(Versioned<ScaleSagaState> & { readonly agentType: string }) | null>;
  saveSaga(tx: Transaction, sagaId: string, agentType: string, row: Versioned<ScaleSagaState>, ended: boolean): Promise<void>;
  /** Sagas not ended yet, per pool (for the status route and the dashboard). */
  running(): Promise<Map<string, { readonly sagaId: string; readonly state: ScaleSagaState }>>;
}
