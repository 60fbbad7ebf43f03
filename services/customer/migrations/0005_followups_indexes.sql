-- SPDX-License-Identifier: Apache-2.0
-- Indexes of the follow-up lists and the to-dos, added after 0003 (which stays as applied):
-- the list of follow-ups across a scope is sorted by contact_at (newest first) and would
-- otherwise sort every follow-up of the scope; "assigned to me, not followed up" counts one
-- manager's customers by followed_up without reading their rows.
ALTER TABLE followups ADD KEY ix_followups_contact (contact_at, id);
ALTER TABLE customers ADD KEY ix_customers_manager_followed (manager_id, deleted_at, followed_up);
