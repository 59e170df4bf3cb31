// The worker processes the process provisioner started, so that an agent pool restarted after a
// crash finds the ones still running (and watches them again) instead of starting more. A worker
// writes how its drain ended here too: the supervisor may be gone while it drains.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE pool_worker_processes (
      worker_id    TEXT PRIMARY KEY,
      agent_type   TEXT        NOT NULL,
      host         TEXT        NOT NULL,
      pid          INTEGER,
      port         INTEGER     NOT NULL,
      started_at   TIMESTAMPTZ NOT NULL,
      drained_at   TIMESTAMPTZ,
      handed_back  INTEGER
    );
    CREATE INDEX pool_worker_processes_pool_idx ON pool_worker_processes (agent_type);
  `);
};

exports.down = false;
