// The admission queue is a queue like the outbox (see the event store's queue-table-vacuum migration):
// a row per execution, deleted when it ends. Customer circuits are updated by every ending.
exports.up = (pgm) => {
  pgm.sql(`
    ALTER TABLE admission_queue SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
    ALTER TABLE customer_circuits SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
  `);
};

exports.down = false;
