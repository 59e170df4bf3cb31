export const COST_LEDGER = Symbol('COST_LEDGER');
export const COST_QUERIES = Symbol('COST_QUERIES');
export const BUDGET_COMMANDS = Symbol('BUDGET_COMMANDS');
export const BUDGET_QUERIES = Symbol('BUDGET_QUERIES');
export const TIMER_POLLER = Symbol('TIMER_POLLER');
export const POOL_SAMPLES = Symbol('POOL_SAMPLES');
export const RECOMMENDATION_ROWS = Symbol('RECOMMENDATION_ROWS');
export const RECOMMENDER = Symbol('RECOMMENDER');
