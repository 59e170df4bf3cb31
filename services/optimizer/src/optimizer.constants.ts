export const COST_LEDGER = Symbol('COST_LEDGER');
export const COST_QUERIES = Symbol('COST_QUERIES');
export const BUDGET_COMMANDS = Symbol('BUDGET_COMMANDS');
export const BUDGET_QUERIES = Symbol('BUDGET_QUERIES');
export const TIMER_POLLER = Symbol('TIMER_POLLER');
