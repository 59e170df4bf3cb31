// Customers whose budget is exhausted and holds their new executions (from the optimizer's budget
// events), until the end of the budget's period; admission passes their queued executions over.
exports.up = (pgm) => {
  pgm.sql(`
    CREATE TABLE customer_budget_holds (
      customer_id TEXT   PRIMARY KEY,
      hold_until  BIGINT NOT NULL,
      reason      TEXT   NOT NULL
    );
  `);
};

exports.down = false;
