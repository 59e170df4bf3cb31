/** `ReadModelQueries` (domain/read-models.ts), implemented over PostgreSQL. */
export const READ_MODEL_QUERIES = Symbol('READ_MODEL_QUERIES');
/** `ReadModelChanges`: committed read-model changes, for the cache and the live stream. */
export const READ_MODEL_CHANGES = Symbol('READ_MODEL_CHANGES');
/** The `Projector` of the live generation of the read models. */
export const LIVE_PROJECTOR = Symbol('LIVE_PROJECTOR');
/** `RebuildService` (application/rebuild.service.ts): start() and progress() of a read-model rebuild. */
export const REBUILD_SERVICE = Symbol('REBUILD_SERVICE');
export const COST_QUERIES = Symbol('COST_QUERIES');
/** `ScalingQueries` (scaling/domain/scaling-views.ts), implemented over PostgreSQL. */
export const SCALING_QUERIES = Symbol('SCALING_QUERIES');
/** `NotificationQueries` (notifications/domain/notification-views.ts), implemented over PostgreSQL. */
export const NOTIFICATION_QUERIES = Symbol('NOTIFICATION_QUERIES');
