// Exactly-once bookkeeping of the read models, kept beside them so that it moves with them: a rebuild
// builds a whole generation (these tables and the read models) in a schema of its own and then swaps
// it in, checkpoints included (application/rebuild.service.ts). The event-store inbox of the service
// schema cannot serve here: a rebuild must apply again every event the current generation applied.
//
// projection_checkpoints: per topic-partition, the last offset applied. The projection consumes each
// partition in order, so an event at or below it has been applied (a redelivery after a crash).
// projection_inbox: event ids applied, for the same event published twice at different offsets
// (the outbox relay publishes at least once).
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE projection_checkpoints (
      topic       TEXT        NOT NULL,
      partition   INTEGER     NOT NULL,
      last_offset BIGINT      NOT NULL,
      updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (topic, partition)
    );
    CREATE TABLE projection_inbox (
      event_id   TEXT PRIMARY KEY,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
  `);
};

exports.down = false;
