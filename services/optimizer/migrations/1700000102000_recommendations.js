// What recommendations are computed from (each agent-pool instance's metrics reports, kept two weeks)
// and the recommendations themselves, as rows read by the API and written with their events.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE pool_metric_samples (
      agent_type      TEXT             NOT NULL,
      instance_id     TEXT             NOT NULL,
      window_ended_at BIGINT           NOT NULL,
      workers         INTEGER          NOT NULL,
      concurrency     INTEGER          NOT NULL,
      utilization     DOUBLE PRECISION NOT NULL,
      PRIMARY KEY (agent_type, instance_id, window_ended_at)
    );
    CREATE INDEX pool_metric_samples_time_idx ON pool_metric_samples (window_ended_at);

    CREATE TABLE recommendations (
      recommendation_id TEXT        PRIMARY KEY,
      agent_type        TEXT        NOT NULL,
      status            TEXT        NOT NULL,
      state             JSONB       NOT NULL,
      updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
    );
  `);
};

exports.down = false;
