export * from './errors';
export * from './decider';
export * from './decider-spec';
