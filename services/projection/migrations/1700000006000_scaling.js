// The scaler's side of the read models, from flotilla.scaling (policies, overrides, pauses, decisions,
// scale sagas), flotilla.pool-events (the agent pool's replicas) and flotilla.pool-metrics (workers'
// reports, rolled up per minute). Every row is made from event fields only (no clock of the
// projection's), so a rebuild makes the same rows. Decisions keep the scaler's JSON (snapshot,
// metrics, recommendation, forecast) as JSONB.
exports.up = (pgm) => {
  pgm.sql(`
    -- One row per pool the scaler or the agent pool spoke of: its policy (the latest version), its
    -- override and pause, the replicas the agent pool last reported, and its latest decision.
    CREATE TABLE scaling_pools (
      agent_type             TEXT PRIMARY KEY,
      policy                 JSONB,
      policy_version         INTEGER,
      policy_template        TEXT,
      policy_defined_at      TIMESTAMPTZ,
      policy_defined_by      TEXT,
      policy_removed_at      TIMESTAMPTZ,
      policy_removed_by      TEXT,
      override_replicas      INTEGER,
      override_reason        TEXT,
      override_expires_at    TIMESTAMPTZ,
      override_set_by        TEXT,
      override_set_at        TIMESTAMPTZ,
      override_cleared_at    TIMESTAMPTZ,
      override_cleared_by    TEXT,
      override_cleared_reason TEXT,
      paused_reason          TEXT,
      paused_by              TEXT,
      paused_at              TIMESTAMPTZ,
      resumed_at             TIMESTAMPTZ,
      resumed_by             TEXT,
      desired_replicas       INTEGER,
      ready_replicas         INTEGER,
      replicas_at            TIMESTAMPTZ,
      provisioner            TEXT,
      slots_per_worker       INTEGER,
      last_decision_id       TEXT,
      last_decision_at       TIMESTAMPTZ
    );

    -- Each recorded decision whole: what the scaler saw (snapshot), each metric's proposal, the
    -- combined recommendation, the stages with their notes, the budget's answer, the forecast's advice,
    -- and what became of it (outcome: saga, waiting behind a running saga, replaced, skipped).
    CREATE TABLE scaling_decisions (
      decision_id      TEXT PRIMARY KEY,
      agent_type       TEXT        NOT NULL,
      policy_version   INTEGER     NOT NULL,
      evaluated_at     TIMESTAMPTZ NOT NULL,
      current_replicas INTEGER     NOT NULL,
      desired_replicas INTEGER     NOT NULL,
      direction        TEXT        NOT NULL,
      mode             TEXT        NOT NULL,
      snapshot         JSONB       NOT NULL,
      metrics          JSONB       NOT NULL,
      recommendation   JSONB       NOT NULL,
      stages           JSONB       NOT NULL,
      budget           JSONB,
      forecast         JSONB,
      saga_id          TEXT,
      outcome          TEXT,
      waiting_behind   TEXT
    );
    CREATE INDEX scaling_decisions_time_idx ON scaling_decisions (evaluated_at DESC, decision_id DESC);
    CREATE INDEX scaling_decisions_pool_idx ON scaling_decisions (agent_type, evaluated_at DESC, decision_id DESC);

    -- The forecast's part in a decision, where it had one, read out of its JSON: the window it looked
    -- at, the peak it forecast and its recent error (the band), or the points when they are given.
    CREATE TABLE scaling_forecasts (
      decision_id          TEXT PRIMARY KEY,
      agent_type           TEXT             NOT NULL,
      decided_at           TIMESTAMPTZ      NOT NULL,
      source               TEXT             NOT NULL,
      window_from          TIMESTAMPTZ,
      window_to            TIMESTAMPTZ,
      peak_rate            DOUBLE PRECISION,
      provision_for_rate   DOUBLE PRECISION,
      observed_rate        DOUBLE PRECISION,
      recent_error_pct     DOUBLE PRECISION,
      note                 TEXT,
      points               JSONB
    );
    CREATE INDEX scaling_forecasts_window_idx ON scaling_forecasts (agent_type, window_to, window_from);

    -- Scale sagas with their status and their steps in the order they happened (JSONB lists).
    CREATE TABLE scaling_sagas (
      saga_id          TEXT PRIMARY KEY,
      agent_type       TEXT        NOT NULL,
      decision_id      TEXT,
      direction        TEXT,
      from_replicas    INTEGER,
      to_replicas      INTEGER,
      reason           TEXT,
      status           TEXT        NOT NULL,
      budget_id        TEXT,
      reservation_id   TEXT,
      amount_micros    BIGINT,
      committed_micros BIGINT,
      ready_replicas   INTEGER,
      replicas_after   INTEGER,
      failure          JSONB,
      outcome          TEXT,
      requested_at     TIMESTAMPTZ,
      started_at       TIMESTAMPTZ,
      ended_at         TIMESTAMPTZ,
      last_event_at    TIMESTAMPTZ NOT NULL,
      steps            JSONB       NOT NULL,
      compensations    JSONB       NOT NULL
    );
    CREATE INDEX scaling_sagas_pool_idx ON scaling_sagas (agent_type, last_event_at DESC);
    CREATE INDEX scaling_sagas_in_flight_idx ON scaling_sagas (agent_type) WHERE status NOT IN ('completed', 'denied', 'compensated');

    -- The pool's replicas over time: one row per pool event (replicas accepted or rejected, a worker
    -- ready, failed or drained, the replicas reached), with the desired and ready counts after it. seq
    -- numbers a pool's events in the order they came (its partition's order, the same in a rebuild),
    -- which orders events of the same time.
    CREATE TABLE scaling_replicas (
      event_id         TEXT PRIMARY KEY,
      agent_type       TEXT        NOT NULL,
      seq              INTEGER     NOT NULL,
      at               TIMESTAMPTZ NOT NULL,
      event            TEXT        NOT NULL,
      desired_replicas INTEGER     NOT NULL,
      ready_replicas   INTEGER     NOT NULL,
      worker_id        TEXT,
      request_id       TEXT,
      detail           TEXT
    );
    CREATE UNIQUE INDEX scaling_replicas_seq_idx ON scaling_replicas (agent_type, seq);
    CREATE INDEX scaling_replicas_pool_idx ON scaling_replicas (agent_type, at, seq);

    -- Workers' metrics reports rolled up per minute and reporter (the minute the report's window ended
    -- in): a pool's minute is the sum over its reporters. A report applies once: its window must end
    -- after the last one applied for the reporter and minute (so the projection needs no inbox row for it).
    CREATE TABLE scaling_pool_metrics (
      agent_type           TEXT             NOT NULL,
      minute               TIMESTAMPTZ      NOT NULL,
      instance_id          TEXT             NOT NULL,
      reports              INTEGER          NOT NULL,
      backlog_max          BIGINT           NOT NULL,
      arrival_rate_sum     DOUBLE PRECISION NOT NULL,
      workers_max          INTEGER          NOT NULL,
      last_window_ended_at TIMESTAMPTZ      NOT NULL,
      PRIMARY KEY (agent_type, minute, instance_id)
    );
  `);
};

exports.down = false;
