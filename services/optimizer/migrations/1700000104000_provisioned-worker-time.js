// Provisioned worker-time per pool, instance and hour (workers × the report's window): what idle cost
// is measured against, kept as long as the hourly rollup.
exports.up = (pgm) => {
  pgm.sql(`ALTER TABLE pool_hourly_usage ADD COLUMN worker_ms DOUBLE PRECISION NOT NULL DEFAULT 0;`);
};

exports.down = false;
