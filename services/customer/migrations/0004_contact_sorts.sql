-- SPDX-License-Identifier: Apache-2.0
-- The sorts of GET /api/v1/contacts besides id (name, created_at, updated_at): an index each, so
-- that a list under the scope ALL reads its page from the index in order instead of sorting
-- every contact of the table (three million at the benchmark's size). InnoDB appends the
-- primary key, the sort's tie-breaker.
ALTER TABLE contacts
  ADD KEY ix_contacts_sort_name (name),
  ADD KEY ix_contacts_sort_created (created_at),
  ADD KEY ix_contacts_sort_updated (updated_at);
