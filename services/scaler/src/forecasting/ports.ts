/** Each pool's forecaster state (JSON), saved as steps close so that a restart keeps what it learnt. */
export interface ForecasterRows {
  load(): Promise<Map<string, unknown>>;
  save(agentType: string, state: unknown): Promise<void>;
}
