// Each delivery carries the trace of the event it delivers (its attempts join that trace), and
// finished deliveries are pruned after the retention period, oldest first by when they finished.
exports.up = (pgm) => {
  pgm.sql(`
    ALTER TABLE deliveries ADD COLUMN traceparent TEXT;
    CREATE INDEX deliveries_finished_idx ON deliveries (finished_at) WHERE status <> 'pending';
    CREATE INDEX execution_kinds_accepted_idx ON execution_kinds (accepted_at);
    CREATE INDEX inbound_requests_received_idx ON inbound_requests (received_at);
  `);
};

exports.down = false;
