// Durable timers of any aggregate (retries, timeouts, expiries, delivery back-off): written in the
// same transaction as the events that start them, fired by the service's timer poller.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE durable_timers (
      timer_id    TEXT        PRIMARY KEY,
      stream_id   TEXT        NOT NULL,
      due_at      TIMESTAMPTZ NOT NULL,
      payload     JSONB       NOT NULL,
      traceparent TEXT
    );
    CREATE INDEX durable_timers_due_idx ON durable_timers (due_at);
    CREATE INDEX durable_timers_stream_idx ON durable_timers (stream_id);
  `);
};

exports.down = false;
