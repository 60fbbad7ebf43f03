-- SPDX-License-Identifier: Apache-2.0
-- The user list's filters and sorts, each with an index (tests/bench/users on 100,000 users):
-- a department with a status is counted from the index instead of every row; sorting by display
-- name or creation time reads the page from the index, not a filesort. (Every secondary index
-- ends with the primary key, the tie-breaker of every sort.) No index on status alone: nearly
-- every user is enabled, and the optimizer took it for a text search, reading every row twice.
ALTER TABLE users
  ADD KEY ix_user_dept_status (dept_id, status),
  ADD KEY ix_user_display_name (display_name),
  ADD KEY ix_user_created (created_at);
