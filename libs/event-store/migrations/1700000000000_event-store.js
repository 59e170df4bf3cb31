// Event store, transactional outbox and inbox of one service, inside that service's own schema.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE events (
      global_position BIGSERIAL PRIMARY KEY,
      stream_id       TEXT        NOT NULL,
      stream_version  INTEGER     NOT NULL,
      event_id        TEXT        NOT NULL UNIQUE,
      event_type      TEXT        NOT NULL,
      data            JSONB       NOT NULL,
      metadata        JSONB       NOT NULL,
      recorded_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
    );

    -- Rows wait here until the relay has published them; the id orders them per aggregate.
    CREATE TABLE outbox (
      id          BIGSERIAL PRIMARY KEY,
      topic       TEXT        NOT NULL,
      message_key TEXT        NOT NULL,
      event_id    TEXT        NOT NULL,
      event_type  TEXT        NOT NULL,
      payload     JSONB       NOT NULL,
      metadata    JSONB       NOT NULL,
      created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
    );

    -- Wakes the relay as soon as a transaction that wrote to the outbox commits.
    CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
      RETURN NULL;
    END $$;
    CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

    -- What each consumer has already applied, written in the same transaction as the change.
    CREATE TABLE inbox (
      consumer     TEXT        NOT NULL,
      event_id     TEXT        NOT NULL,
      processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer, event_id)
    );
  `);
};

exports.down = false;
