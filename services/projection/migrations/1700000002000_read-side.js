// The rest of the read side: admission details on executions (for timelines and the queue), alerts,
// SLA violations, customers' circuits and the global capacity. Customer cards and the overview are
// aggregated from these tables at query time, so they can never drift from the rows they summarise.
// Everything is keyed by customer and time, so scaling history and costs join later by the same keys.
exports.up = (pgm) => {
  pgm.sql(`
    ALTER TABLE executions
      ADD COLUMN queued_at   TIMESTAMPTZ,
      ADD COLUMN admitted_at TIMESTAMPTZ,
      ADD COLUMN deadline_at TIMESTAMPTZ,
      ADD COLUMN tier        TEXT,
      ADD COLUMN priority    DOUBLE PRECISION;
    CREATE INDEX executions_list_idx ON executions (accepted_at DESC, execution_id DESC);
    CREATE INDEX executions_finished_idx ON executions (finished_at) WHERE finished_at IS NOT NULL;

    CREATE TABLE alerts (
      alert_id     TEXT PRIMARY KEY,
      severity     TEXT        NOT NULL,
      kind         TEXT        NOT NULL,
      source       TEXT        NOT NULL,
      customer_id  TEXT,
      execution_id TEXT,
      message      TEXT        NOT NULL,
      raised_at    TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX alerts_time_idx ON alerts (raised_at DESC, alert_id DESC);
    CREATE INDEX alerts_customer_idx ON alerts (customer_id, raised_at DESC);

    CREATE TABLE sla_violations (
      execution_id TEXT        NOT NULL,
      sla          TEXT        NOT NULL,
      customer_id  TEXT        NOT NULL,
      limit_ms     BIGINT      NOT NULL,
      actual_ms    BIGINT      NOT NULL,
      violated_at  TIMESTAMPTZ NOT NULL,
      PRIMARY KEY (execution_id, sla)
    );
    CREATE INDEX sla_violations_time_idx ON sla_violations (violated_at DESC, execution_id DESC);

    CREATE TABLE customer_circuits (
      customer_id TEXT PRIMARY KEY,
      status      TEXT        NOT NULL,
      changed_at  TIMESTAMPTZ NOT NULL
    );

    CREATE TABLE admission_capacity (
      id         TEXT PRIMARY KEY DEFAULT 'global' CHECK (id = 'global'),
      capacity   INTEGER     NOT NULL,
      changed_at TIMESTAMPTZ NOT NULL
    );
  `);
};

exports.down = false;
