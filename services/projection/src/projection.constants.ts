export const EXECUTIONS_REPOSITORY = Symbol('EXECUTIONS_REPOSITORY');
/** `ReadModelQueries` (domain/read-models.ts), implemented over PostgreSQL. */
export const READ_MODEL_QUERIES = Symbol('READ_MODEL_QUERIES');
/** `ReadModelChanges`: committed read-model changes, for the cache and the live stream. */
export const READ_MODEL_CHANGES = Symbol('READ_MODEL_CHANGES');
export const READ_SIDE_REPOSITORY = Symbol('READ_SIDE_REPOSITORY');
