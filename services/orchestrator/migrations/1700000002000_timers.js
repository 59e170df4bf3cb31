// Durable timers of executions (retries and task timeouts), written in the same transaction as the
// events that start them and fired by the orchestrator's timer poller.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE timers (
      execution_id TEXT        NOT NULL,
      task_id      TEXT        NOT NULL,
      attempt      INTEGER     NOT NULL,
      kind         TEXT        NOT NULL,
      due_at       TIMESTAMPTZ NOT NULL,
      PRIMARY KEY (execution_id, task_id, attempt, kind)
    );
    CREATE INDEX timers_due_idx ON timers (due_at);
  `);
};

exports.down = false;
