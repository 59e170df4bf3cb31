export * from './config';
export * from './kafka-connection';
export * from './platform';
export * from './platform.module';
export * from './service-kit.constants';
export * from './health.controller';
export * from './bootstrap';
