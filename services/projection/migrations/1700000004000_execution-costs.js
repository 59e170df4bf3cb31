// What each execution cost so far (the optimizer's CostRecorded, summed), shown with it.
exports.up = (pgm) => {
  pgm.sql(`
    ALTER TABLE executions ADD COLUMN cost_micros BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE executions ADD COLUMN cost_currency TEXT;
  `);
};

exports.down = false;
