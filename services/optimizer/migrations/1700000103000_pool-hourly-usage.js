// Each instance's busiest moment per hour, kept two weeks for the daily patterns (schedule hints):
// raw reports every few seconds would be millions of rows to read each round.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE pool_hourly_usage (
      agent_type  TEXT             NOT NULL,
      instance_id TEXT             NOT NULL,
      hour        BIGINT           NOT NULL,
      max_busy    DOUBLE PRECISION NOT NULL,
      workers     INTEGER          NOT NULL,
      concurrency INTEGER          NOT NULL,
      PRIMARY KEY (agent_type, instance_id, hour)
    );
    CREATE INDEX pool_hourly_usage_hour_idx ON pool_hourly_usage (hour);
    -- Reports live only as long as the over-provisioning window needs them: a queue-like churn.
    ALTER TABLE pool_metric_samples SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
  `);
};

exports.down = false;
