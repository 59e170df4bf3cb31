// Read model of executions and their tasks. Rebuildable from the topics at any time.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE executions (
      execution_id  TEXT PRIMARY KEY,
      customer_id   TEXT,
      kind          TEXT,
      status        TEXT        NOT NULL,
      reasons       JSONB       NOT NULL DEFAULT '[]',
      tasks         JSONB       NOT NULL DEFAULT '{}',
      accepted_at   TIMESTAMPTZ,
      finished_at   TIMESTAMPTZ,
      duration_ms   BIGINT,
      updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
      last_event_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX executions_customer_idx ON executions (customer_id, accepted_at DESC);
    CREATE INDEX executions_status_idx ON executions (status);
  `);
};

exports.down = false;
