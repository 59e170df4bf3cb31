/** `ExecutionTraces` (traces/execution-traces.ts), implemented over Jaeger's query API. */
export const EXECUTION_TRACES = Symbol('EXECUTION_TRACES');
