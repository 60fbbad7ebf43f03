-- SPDX-License-Identifier: Apache-2.0
-- Transfers (客户转移) of customers from one manager to another.

-- One request: a transfer of the customers a user picked (kind 'select', completed in its
-- request), or a hand-over of all of a manager's customers, or of those a filter matches, to
-- one or several receivers (kind 'handover', a job: queued, running, done; the background task
-- works through it in chunks, from 'cursor', and a restart resumes there).
CREATE TABLE transfers (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  kind ENUM('select', 'handover') NOT NULL,
  status ENUM('completed', 'queued', 'running', 'done', 'failed') NOT NULL,
  reason VARCHAR(500) NOT NULL,
  operator_id BIGINT UNSIGNED NOT NULL,
  -- the operator's data scope when they asked (a job runs later, with the scope it was given)
  operator_scope ENUM('SELF', 'DEPT', 'DEPT_AND_CHILD', 'ALL') NOT NULL,
  -- a hand-over: whose customers (NULL: any owner the filter matches), the receivers in order,
  -- the filter ({} : all), the next receiver of the round robin, and where it is
  from_manager_id BIGINT UNSIGNED NULL,
  receivers VARCHAR(2000) NOT NULL DEFAULT '[]',
  filter VARCHAR(2000) NOT NULL DEFAULT '{}',
  next_receiver INT UNSIGNED NOT NULL DEFAULT 0,
  cursor_id BIGINT UNSIGNED NOT NULL DEFAULT 0,
  total INT UNSIGNED NOT NULL DEFAULT 0,
  done INT UNSIGNED NOT NULL DEFAULT 0,
  failed INT UNSIGNED NOT NULL DEFAULT 0,
  -- the instance working on a job and until when (another takes over after it)
  lease_owner VARCHAR(96) NULL,
  lease_until DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  finished_at DATETIME(3) NULL,
  KEY ix_transfers_status (status, id),
  KEY ix_transfers_operator (operator_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One customer of a transfer: from whom to whom. A customer a hand-over could not move (its
-- owner changed meanwhile, it was deleted) is recorded as failed with the reason's code.
CREATE TABLE transfer_items (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  transfer_id BIGINT UNSIGNED NOT NULL,
  customer_id BIGINT UNSIGNED NOT NULL,
  customer_name VARCHAR(60) NOT NULL DEFAULT '',
  from_manager_id BIGINT UNSIGNED NOT NULL,
  to_manager_id BIGINT UNSIGNED NOT NULL,
  status ENUM('completed', 'failed') NOT NULL DEFAULT 'completed',
  error VARCHAR(64) NOT NULL DEFAULT '',
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  -- a customer once per transfer: a resumed chunk cannot move it twice
  UNIQUE KEY uq_transfer_items (transfer_id, customer_id),
  KEY ix_transfer_items_customer (customer_id, id),
  KEY ix_transfer_items_from (from_manager_id, id),
  KEY ix_transfer_items_to (to_manager_id, id),
  KEY ix_transfer_items_created (created_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
