-- SPDX-License-Identifier: Apache-2.0
-- The workbench's care numbers (GET /api/v1/care/summary) as index ranges over the caller's own
-- rows, from tests/bench/transfer_care (3 million contacts, a manager of 30,000 customers): the
-- week's birthdays were read through ix_care_contacts_birthday of every manager's contacts
-- (about 57,000 entries for seven days) and joined to customer_owners to find the caller's.
--
-- 'manager_id' is the contact's customer's owner as customer_owners has it, copied here so that
-- one index holds a manager's contacts by birthday; the consumer keeps it equal to
-- customer_owners.manager_id (repo_contacts_owner_sync after every change of either: a contact
-- event, a customer event, a transfer). The queries still join customer_owners on the owner, so
-- a copy behind its source could only count less, never show another's contact.
-- Each statement may be run again (IF NOT EXISTS; the copy is rewritten whole): DDL is not
-- transactional, so a start that stopped half-way (the backfill of 3 million contacts is about
-- a minute) finishes the rest at the next.
ALTER TABLE care_contacts ADD COLUMN IF NOT EXISTS manager_id BIGINT UNSIGNED NOT NULL DEFAULT 0 AFTER customer_id;
UPDATE care_contacts cc JOIN customer_owners o ON o.customer_id = cc.customer_id
  SET cc.manager_id = o.manager_id;
-- the owner's live contacts by birthday; customer_id for the join, so the count reads no row
CREATE INDEX IF NOT EXISTS ix_care_contacts_manager_birthday
  ON care_contacts (manager_id, deleted, birth_month, birth_day, customer_id);
-- done this month and done per week: the done tasks by done_at (ix_care_tasks_manager orders
-- them by planned_at, so both read every done task's row)
CREATE INDEX IF NOT EXISTS ix_care_tasks_manager_done ON care_tasks (manager_id, status, done_at);
