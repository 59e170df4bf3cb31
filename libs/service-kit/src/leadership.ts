/**
 * Leadership among a service's instances (outbox relay, admission, a read-model rebuild): one
 * implementation, a PostgreSQL session advisory lock on a dedicated connection that survives the
 * database restarting. It lives in the event store, whose outbox relay needs it and which must not
 * depend on the service kit; services take it from here.
 */
export { AdvisoryLeadership, type AdvisoryLeadershipOptions } from '@flotilla/event-store';
