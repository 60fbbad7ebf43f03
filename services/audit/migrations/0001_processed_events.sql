-- SPDX-License-Identifier: Apache-2.0
-- Idempotent consumption: an event is applied and its id recorded in one transaction, so a
-- redelivered event finds its id here and changes nothing.
CREATE TABLE processed_events (
  event_id CHAR(36) NOT NULL PRIMARY KEY,
  stream VARCHAR(64) NOT NULL,
  stream_entry_id VARCHAR(32) NOT NULL,
  processed_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
