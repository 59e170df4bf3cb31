// The outbox and the timers are queues: every row is deleted soon after it is written. PostgreSQL's
// default (vacuum a table once a fifth of it is dead) lets tens of thousands of dead rows pile up under
// load, and every read of the queue steps over them: a burst of 3-task executions got slower round
// after round until autovacuum came by. Vacuumed after a thousand dead rows whatever the table's size,
// without the cost-based pauses, they stay small.
exports.up = (pgm) => {
  pgm.sql(`
    ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
    ALTER TABLE durable_timers SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
  `);
};

exports.down = false;
