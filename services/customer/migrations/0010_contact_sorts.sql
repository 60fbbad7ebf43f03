-- SPDX-License-Identifier: Apache-2.0
-- The customer list sorted by next contact (soonest first: who to call next) and by last contact
-- (latest first), as the list's other columns are. Both times may be empty, and the list's keyset
-- cursors and ORDER BY need a value that is never NULL and an index that gives the order: a stored
-- copy of each with the empty ones at the end (no next contact after every planned one, never
-- contacted after every contacted one), with an index for the whole list and one for an owner's.
ALTER TABLE customers
  ADD COLUMN next_contact_sort DATETIME(3)
    AS (COALESCE(next_contact_at, TIMESTAMP'9999-12-31 23:59:59.999')) PERSISTENT,
  ADD COLUMN last_contact_sort DATETIME(3)
    AS (COALESCE(last_contact_at, TIMESTAMP'1000-01-01 00:00:00.000')) PERSISTENT,
  ADD INDEX ix_customers_live_next_sort (deleted_at, next_contact_sort),
  ADD INDEX ix_customers_manager_next_sort (manager_id, deleted_at, next_contact_sort),
  ADD INDEX ix_customers_live_last_sort (deleted_at, last_contact_sort),
  ADD INDEX ix_customers_manager_last_sort (manager_id, deleted_at, last_contact_sort);
