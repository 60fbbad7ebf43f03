-- SPDX-License-Identifier: Apache-2.0
-- Transactional outbox: business rows and their event are written in one transaction; the relay
-- publishes pending rows to the service stream in id order and stamps published_at.
CREATE TABLE outbox (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id CHAR(36) NOT NULL,
  event_type VARCHAR(64) NOT NULL,
  envelope LONGTEXT NOT NULL CHECK (JSON_VALID(envelope)),
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  published_at DATETIME(3) NULL,
  UNIQUE KEY uq_outbox_event (event_id),
  KEY ix_outbox_pending (published_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
