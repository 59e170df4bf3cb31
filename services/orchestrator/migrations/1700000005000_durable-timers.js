// Execution timers move to the event store's shared durable_timers table (one implementation of
// durable timers for every service); pending ones are carried over with their due times and traces.
exports.up = (pgm) => {
  pgm.sql(`
    INSERT INTO durable_timers (timer_id, stream_id, due_at, payload, traceparent)
    SELECT execution_id || ':' || task_id || ':' || attempt || ':' || kind,
           'Execution-' || execution_id,
           due_at,
           jsonb_build_object('executionId', execution_id, 'taskId', task_id, 'attempt', attempt, 'kind', kind, 'dueAt', (extract(epoch from due_at) * 1000)::bigint),
           traceparent
      FROM timers
    ON CONFLICT (timer_id) DO NOTHING;
    DROP TABLE timers;
  `);
};

exports.down = false;
