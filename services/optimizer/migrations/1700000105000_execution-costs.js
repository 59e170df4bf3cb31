// Each execution's cost state (Open, Ended awaiting the costs of its attempts, Final) as a row, locked
// by the transaction that records a cost of the execution and by the one that records its end, so that
// whichever commits second sees the other and finalizes: ExecutionCostFinalized exactly once.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE execution_costs (
      execution_id   TEXT        PRIMARY KEY,
      state          JSONB       NOT NULL,
      stream_version INTEGER     NOT NULL,
      updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
    );
  `);
};

exports.down = false;
