// The notification service's side of the read models, from flotilla.notifications (keyed by
// subscription, so a subscription's events and those of its deliveries come in order): webhook
// subscriptions with their endpoint's health and counts, each delivery with its status, and every
// attempt. Rows are folded from event fields only (no clock of the projection's), so a rebuild makes
// the same rows (services/projection/src/notifications/domain).
exports.up = (pgm) => {
  pgm.sql(`
    -- One row per subscription: its definition (null columns until its creation or an update is
    -- known), deletion, the endpoint's health (status as the service's last health change said; the
    -- run of failures carried on by the attempts since), the last secret rotation, its deliveries'
    -- counts, the outcomes of its latest attempts (one character each: s, f, g; oldest first) for the
    -- success rate, and the last failure. customer_id null: an ops subscription, for ops only.
    CREATE TABLE notification_subscriptions (
      subscription_id            TEXT PRIMARY KEY,
      customer_id                TEXT,
      url                        TEXT,
      description                TEXT,
      filter                     JSONB,
      enabled                    BOOLEAN,
      created_by                 TEXT,
      created_at                 TIMESTAMPTZ,
      updated_by                 TEXT,
      updated_at                 TIMESTAMPTZ,
      deleted_by                 TEXT,
      deleted_at                 TIMESTAMPTZ,
      health_status              TEXT        NOT NULL,
      consecutive_failures       INTEGER     NOT NULL,
      failing_since              TIMESTAMPTZ,
      health_reason              TEXT,
      health_changed_at          TIMESTAMPTZ,
      rotated_by                 TEXT,
      rotated_at                 TIMESTAMPTZ,
      previous_secret_expires_at TIMESTAMPTZ,
      deliveries_scheduled       INTEGER     NOT NULL,
      attempts_succeeded         INTEGER     NOT NULL,
      attempts_failed            INTEGER     NOT NULL,
      dead_lettered              INTEGER     NOT NULL,
      recent_outcomes            TEXT        NOT NULL,
      last_attempt_at            TIMESTAMPTZ,
      last_delivered_at          TIMESTAMPTZ,
      last_failure_at            TIMESTAMPTZ,
      last_failure_outcome       TEXT,
      last_failure_status_code   INTEGER,
      last_failure_error         TEXT
    );
    CREATE INDEX notification_subscriptions_customer_idx ON notification_subscriptions (customer_id, subscription_id);
    CREATE INDEX notification_subscriptions_failing_idx ON notification_subscriptions (health_status, subscription_id) WHERE health_status <> 'closed';

    -- One row per delivery (the webhook-id): the event it carries, its status (pending, retrying,
    -- succeeded, dead_lettered), its attempts (all of them; round counts the replays, and
    -- last_attempt_no is the highest attempt number of the current round, so one reported twice counts
    -- once), the last attempt's answer and the next one's time. Whose it is: its subscription's customer.
    CREATE TABLE notification_deliveries (
      delivery_id        TEXT PRIMARY KEY,
      subscription_id    TEXT        NOT NULL,
      event_id           TEXT,
      event_type         TEXT,
      status             TEXT        NOT NULL,
      attempts           INTEGER     NOT NULL,
      round              INTEGER     NOT NULL,
      last_attempt_no    INTEGER,
      last_outcome       TEXT,
      last_status_code   INTEGER,
      last_latency_ms    BIGINT,
      last_error         TEXT,
      next_attempt_at    TIMESTAMPTZ,
      scheduled_at       TIMESTAMPTZ NOT NULL,
      last_attempted_at  TIMESTAMPTZ,
      delivered_at       TIMESTAMPTZ,
      dead_lettered_at   TIMESTAMPTZ,
      dead_letter_reason TEXT,
      replayed_at        TIMESTAMPTZ,
      replayed_by        TEXT
    );
    CREATE INDEX notification_deliveries_time_idx ON notification_deliveries (scheduled_at DESC, delivery_id DESC);
    CREATE INDEX notification_deliveries_subscription_idx ON notification_deliveries (subscription_id, scheduled_at DESC, delivery_id DESC);

    -- Every attempt of a delivery, numbered in the order recorded (seq: 1, 2, … across replays).
    CREATE TABLE notification_attempts (
      delivery_id     TEXT        NOT NULL,
      seq             INTEGER     NOT NULL,
      subscription_id TEXT        NOT NULL,
      round           INTEGER     NOT NULL,
      attempt         INTEGER     NOT NULL,
      outcome         TEXT        NOT NULL,
      status_code     INTEGER,
      error           TEXT,
      latency_ms      BIGINT      NOT NULL,
      attempted_at    TIMESTAMPTZ NOT NULL,
      next_attempt_at TIMESTAMPTZ,
      PRIMARY KEY (delivery_id, seq)
    );
  `);
};

exports.down = false;
