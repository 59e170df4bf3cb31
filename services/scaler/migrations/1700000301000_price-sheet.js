// The optimizer's last price sheet (from flotilla.prices), so that a restarted scaler reserves at it at once.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE price_sheet (
      only_row     BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
      sheet_id     TEXT   NOT NULL,
      currency     TEXT   NOT NULL,
      sheet        JSONB  NOT NULL,
      published_at BIGINT NOT NULL
    );
  `);
};

exports.down = false;
