export * from './stack';
export * from './wait-for';
export * from './service-process';
export * from './ports';
export * from './flotilla';
