// The scaler's state besides its event streams:
// - pool_replicas: each pool's replicas as the agent pool last recorded them (from flotilla.pool-events),
//   so a restarted scaler knows them without re-reading the topic;
// - scaling_pools: each pool's policy, override, pause and scaling history (the stabilization window),
//   one row per pool, locked by whoever changes it, with its event stream's version;
// - scale_sagas / pool_sagas: each saga's state and each pool's one-saga-at-a-time bookkeeping, locked
//   the same way; the sagas' timers are the event store's durable_timers;
// - forecasters: each pool's arrival forecaster (JSON), saved when a step closes.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE pool_replicas (
      agent_type       TEXT PRIMARY KEY,
      replicas         INTEGER     NOT NULL,
      ready_replicas   INTEGER     NOT NULL,
      slots_per_worker INTEGER     NOT NULL,
      provisioner      TEXT        NOT NULL,
      updated_at       TIMESTAMPTZ NOT NULL
    );

    CREATE TABLE scaling_pools (
      agent_type TEXT PRIMARY KEY,
      state      JSONB   NOT NULL,
      version    INTEGER NOT NULL
    );

    CREATE TABLE scale_sagas (
      saga_id    TEXT PRIMARY KEY,
      agent_type TEXT        NOT NULL,
      state      JSONB       NOT NULL,
      version    INTEGER     NOT NULL,
      ended      BOOLEAN     NOT NULL DEFAULT false,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX scale_sagas_running_idx ON scale_sagas (agent_type) WHERE NOT ended;

    CREATE TABLE pool_sagas (
      agent_type TEXT PRIMARY KEY,
      state      JSONB   NOT NULL,
      version    INTEGER NOT NULL
    );

    CREATE TABLE forecasters (
      agent_type TEXT PRIMARY KEY,
      state      JSONB       NOT NULL,
      saved_at   TIMESTAMPTZ NOT NULL
    );
  `);
};

exports.down = false;
