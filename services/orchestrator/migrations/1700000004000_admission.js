// The admission queue and what admission decides with, kept in the same transactions as the events
// that change them: an execution is queued, admitted and released together with its events, so the
// queue survives restarts and a slot is never leaked or given twice.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE admission_queue (
      execution_id  TEXT             PRIMARY KEY,
      customer_id   TEXT             NOT NULL,
      base_priority DOUBLE PRECISION NOT NULL,
      queued_at     BIGINT           NOT NULL,
      admitted_at   BIGINT,
      sla_violated  BOOLEAN          NOT NULL DEFAULT false,
      -- the trace of the request, so that admitting it (in a later round) continues the same trace
      traceparent   TEXT
    );
    CREATE INDEX admission_queue_waiting_idx ON admission_queue (queued_at) WHERE admitted_at IS NULL;

    -- Runtime capacity set by AdmissionCapacityChanged; no row means the configured default.
    CREATE TABLE admission_capacity (
      id         TEXT    PRIMARY KEY DEFAULT 'global' CHECK (id = 'global'),
      capacity   INTEGER NOT NULL,
      changed_at BIGINT  NOT NULL
    );

    -- State of each customer's circuit (CustomerAdmission aggregate), written with its events.
    CREATE TABLE customer_circuits (
      customer_id          TEXT    PRIMARY KEY,
      status               TEXT    NOT NULL,
      consecutive_failures INTEGER NOT NULL,
      open_until           BIGINT,
      probe_execution_id   TEXT
    );
  `);
};

exports.down = false;
