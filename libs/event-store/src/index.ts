export * from './errors';
export * from './event-store';
export * from './command-handler';
export * from './outbox-relay';
export * from './leadership';
export * from './durable-timers';
export * from './command-batcher';
