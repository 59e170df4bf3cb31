export const SCALING_POOLS = Symbol('SCALING_POOLS');
export const SCALE_SAGAS = Symbol('SCALE_SAGAS');
export const POOL_OBSERVATIONS = Symbol('POOL_OBSERVATIONS');
export const POOL_REPLICAS_VIEW = Symbol('POOL_REPLICAS_VIEW');
export const POOL_FORECASTS = Symbol('POOL_FORECASTS');
export const SCALING_LOOP = Symbol('SCALING_LOOP');
export const SAGA_TIMERS = Symbol('SAGA_TIMERS');
export const SCALE_SAGA_ROWS = Symbol('SCALE_SAGA_ROWS');
