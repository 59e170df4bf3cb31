// The optimizer's side of the read models: what each attempt cost (kept per attempt, and rolled up
// per hour, customer and pool for the summaries and the dashboard), budgets with their reservations,
// and recommendations. Budget spend is summed at query time from the cost rows of its period, so it
// does not depend on the order in which the costs and budgets topics were consumed (a rebuild reads
// them in another order than the live consumer did). used_micros (what of the CPU and memory charge
// usage accounts for) is a weight for efficiency, not money: kept unrounded, so that attempts of a
// few micro-units do not round it to all or nothing.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE cost_attempts (
      cost_id        TEXT PRIMARY KEY,
      execution_id   TEXT        NOT NULL,
      customer_id    TEXT        NOT NULL,
      agent_type     TEXT        NOT NULL,
      task_id        TEXT        NOT NULL,
      attempt        INTEGER     NOT NULL,
      outcome        TEXT        NOT NULL,
      total_micros   BIGINT      NOT NULL,
      resource_micros BIGINT     NOT NULL,
      used_micros    DOUBLE PRECISION NOT NULL,
      currency       TEXT        NOT NULL,
      ended_at       TIMESTAMPTZ NOT NULL,
      recorded_at    TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX cost_attempts_execution_idx ON cost_attempts (execution_id);
    CREATE INDEX cost_attempts_ended_idx ON cost_attempts (ended_at);

    CREATE TABLE cost_hourly (
      hour            TIMESTAMPTZ NOT NULL,
      customer_id     TEXT        NOT NULL,
      agent_type      TEXT        NOT NULL,
      attempts        INTEGER     NOT NULL,
      total_micros    BIGINT      NOT NULL,
      resource_micros BIGINT      NOT NULL,
      used_micros     DOUBLE PRECISION NOT NULL,
      currency        TEXT        NOT NULL,
      PRIMARY KEY (hour, customer_id, agent_type)
    );
    CREATE INDEX cost_hourly_customer_idx ON cost_hourly (customer_id, hour);
    CREATE INDEX cost_hourly_pool_idx ON cost_hourly (agent_type, hour);

    ALTER TABLE executions
      ADD COLUMN cost_final           BOOLEAN NOT NULL DEFAULT false,
      ADD COLUMN cost_attempts        INTEGER NOT NULL DEFAULT 0,
      ADD COLUMN cost_missing_attempts INTEGER NOT NULL DEFAULT 0;
    -- Executions with a cost (some attempt costed, or final at zero), by cost: the costliest first.
    CREATE INDEX executions_cost_idx ON executions (cost_micros DESC, execution_id DESC) WHERE cost_attempts > 0 OR cost_final;

    CREATE TABLE budgets (
      budget_id        TEXT PRIMARY KEY,
      customer_id      TEXT,
      agent_type       TEXT,
      period           TEXT        NOT NULL,
      amount_micros    BIGINT      NOT NULL,
      thresholds       INTEGER[]   NOT NULL,
      at_exhaustion    TEXT        NOT NULL,
      first_defined_at TIMESTAMPTZ NOT NULL,
      defined_at       TIMESTAMPTZ NOT NULL,
      defined_by       TEXT        NOT NULL
    );
    CREATE INDEX budgets_customer_idx ON budgets (customer_id) WHERE customer_id IS NOT NULL;

    CREATE TABLE budget_reservations (
      reservation_id TEXT PRIMARY KEY,
      budget_id      TEXT        NOT NULL,
      amount_micros  BIGINT      NOT NULL,
      status         TEXT        NOT NULL,
      period_key     TEXT        NOT NULL,
      reserved_at    TIMESTAMPTZ NOT NULL,
      settled_at     TIMESTAMPTZ
    );
    CREATE INDEX budget_reservations_budget_idx ON budget_reservations (budget_id, status, reserved_at);

    CREATE TABLE budget_crossings (
      budget_id   TEXT        NOT NULL,
      period_key  TEXT        NOT NULL,
      threshold   INTEGER     NOT NULL,
      crossed_at  TIMESTAMPTZ NOT NULL,
      PRIMARY KEY (budget_id, period_key, threshold)
    );

    CREATE TABLE recommendations (
      recommendation_id   TEXT PRIMARY KEY,
      kind                TEXT             NOT NULL,
      agent_type          TEXT             NOT NULL,
      summary             TEXT             NOT NULL,
      current_workers     INTEGER          NOT NULL,
      recommended_workers INTEGER          NOT NULL,
      saving_micros       BIGINT           NOT NULL,
      confidence          DOUBLE PRECISION NOT NULL,
      evidence            JSONB            NOT NULL,
      issued_at           TIMESTAMPTZ      NOT NULL,
      dismissed_at        TIMESTAMPTZ,
      dismissed_by        TEXT,
      dismiss_reason      TEXT
    );
    CREATE INDEX recommendations_saving_idx ON recommendations (saving_micros DESC, recommendation_id) WHERE dismissed_at IS NULL;
  `);
};

exports.down = false;
