// The notification service's state besides its event streams:
// - subscriptions: each webhook subscription's state (endpoint, filter, secrets, endpoint health), one
//   row locked by whoever changes it, with its stream's version. Secrets live only here, never in an event;
// - deliveries: one row per (event, subscription), the unique pair being what makes a redelivered or
//   replayed event schedule nothing twice; due rows are leased by a worker while it sends;
// - execution_kinds: each execution's kind (from ExecutionAccepted), for filters on execution kinds;
// - inbound_requests: the inbound webhooks taken (GitHub deliveries, signed senders' message ids), so the
//   same delivery twice requests once.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE subscriptions (
      subscription_id TEXT PRIMARY KEY,
      customer_id     TEXT,
      state           JSONB   NOT NULL,
      version         INTEGER NOT NULL
    );
    CREATE INDEX subscriptions_customer_idx ON subscriptions (customer_id);

    CREATE TABLE deliveries (
      delivery_id     TEXT PRIMARY KEY,
      subscription_id TEXT    NOT NULL,
      customer_id     TEXT,
      event_id        TEXT    NOT NULL,
      event_type      TEXT    NOT NULL,
      body            TEXT    NOT NULL,
      status          TEXT    NOT NULL,
      attempts        INTEGER NOT NULL DEFAULT 0,
      attempts_in_run INTEGER NOT NULL DEFAULT 0,
      next_attempt_at BIGINT  NOT NULL,
      lease_id        TEXT,
      lease_until     BIGINT,
      last_status     INTEGER,
      last_error      TEXT,
      created_at      BIGINT  NOT NULL,
      finished_at     BIGINT,
      UNIQUE (event_id, subscription_id)
    );
    CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
    CREATE INDEX deliveries_subscription_idx ON deliveries (subscription_id, status);

    CREATE TABLE execution_kinds (
      execution_id TEXT PRIMARY KEY,
      kind         TEXT   NOT NULL,
      accepted_at  BIGINT NOT NULL
    );

    CREATE TABLE inbound_requests (
      source      TEXT NOT NULL,
      request_id  TEXT NOT NULL,
      received_at BIGINT NOT NULL,
      outcome     TEXT NOT NULL,
      PRIMARY KEY (source, request_id)
    );
  `);
};

exports.down = false;
