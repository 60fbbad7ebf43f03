-- SPDX-License-Identifier: Apache-2.0
-- The workbench's to-do counts (GET /api/v1/customers/todos) and the list's todo=moved as index
-- ranges over the manager's own entries, from tests/bench/transfer_care (a manager of 30,000
-- customers): "moved to me" (not followed up, received by a transfer since a date) read the row
-- of every customer not followed up, because owner_time and last_transfer_id were in no index.
-- This one holds the manager's live customers by followed_up, then since when they are theirs,
-- then the transfer that gave them: "moved" is one range (owner_time >= ?) with
-- last_transfer_id > 0 checked in the entries, "not followed up" the range before it. It starts
-- with ix_customers_manager_followed's columns, which it replaces. Both statements may be run
-- again (a start that stopped between them).
CREATE INDEX IF NOT EXISTS ix_customers_manager_followed_owner
  ON customers (manager_id, deleted_at, followed_up, owner_time, last_transfer_id);
DROP INDEX IF EXISTS ix_customers_manager_followed ON customers;
