// A customer's circuit is kept as its row, updated in the transaction that ends one of its executions;
// only transitions (opened, half-opened, closed) are appended as events. The row now holds the
// version of the CustomerAdmission stream those transitions follow, read under the row lock, so the
// stream is never loaded (it used to gain an event per execution and be read whole on every ending).
exports.up = (pgm) => {
  pgm.sql(`
    ALTER TABLE customer_circuits ADD COLUMN stream_version INTEGER NOT NULL DEFAULT 0;
    UPDATE customer_circuits c SET stream_version = s.version
      FROM (SELECT stream_id, max(stream_version) AS version FROM events WHERE stream_id LIKE 'CustomerAdmission-%' GROUP BY stream_id) s
     WHERE s.stream_id = 'CustomerAdmission-' || c.customer_id;
  `);
};

exports.down = false;
