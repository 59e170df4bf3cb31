// The cost ledger's rows, one per task attempt, written in the transaction that records its
// CostRecorded event: the sums per execution, customer, pool and hour are read from here.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE attempt_costs (
      cost_id        TEXT        PRIMARY KEY,
      execution_id   TEXT        NOT NULL,
      customer_id    TEXT        NOT NULL,
      agent_type     TEXT        NOT NULL,
      task_id        TEXT        NOT NULL,
      attempt        INTEGER     NOT NULL,
      outcome        TEXT        NOT NULL,
      cpu_micros     BIGINT      NOT NULL,
      memory_micros  BIGINT      NOT NULL,
      fixed_micros   BIGINT      NOT NULL,
      units_micros   BIGINT      NOT NULL,
      total_micros   BIGINT      NOT NULL,
      ended_at       TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX attempt_costs_execution_idx ON attempt_costs (execution_id);
    CREATE INDEX attempt_costs_customer_idx ON attempt_costs (customer_id, ended_at);
    CREATE INDEX attempt_costs_pool_idx ON attempt_costs (agent_type, ended_at);
  `);
};

exports.down = false;
