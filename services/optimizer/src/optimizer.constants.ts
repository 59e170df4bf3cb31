export const COST_LEDGER = Symbol('COST_LEDGER');
export const COST_QUERIES = Symbol('COST_QUERIES');
