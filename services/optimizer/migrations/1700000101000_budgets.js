// Each budget's state as a row (definition, the current period's spend, crossings, reservations),
// updated in the transaction that records a cost or answers a reservation; its stream keeps only the
// events that say something (definitions, crossings, reservations), not one per cost.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE budgets (
      budget_id      TEXT        PRIMARY KEY,
      state          JSONB       NOT NULL,
      stream_version INTEGER     NOT NULL,
      updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    -- Updated by every cost of its scope: vacuumed like the queue tables (see the event store's migration).
    ALTER TABLE budgets SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
  `);
};

exports.down = false;
