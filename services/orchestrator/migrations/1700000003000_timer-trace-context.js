// The trace of the command that started a timer, so that its firing joins the execution's trace.
exports.up = (pgm) => {
  pgm.sql(`ALTER TABLE timers ADD COLUMN traceparent TEXT`);
};

exports.down = false;
