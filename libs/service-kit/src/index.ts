export * from './config';
export * from './platform';
export * from './platform.module';
export * from './service-kit.constants';
export * from './health.controller';
export * from './bootstrap';
