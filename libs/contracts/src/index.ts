export * from './generated/schemas';
export * from './agent-types';
export * from './topics';
export * from './budget-scope';
export * from './budget-period';
export * from './price-sheet';
