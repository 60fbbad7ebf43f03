-- SPDX-License-Identifier: Apache-2.0
-- The append-only logs. The service's database user may insert and read them, never update or
-- delete (deploy/crm grants it no UPDATE, DELETE or DROP on this schema). audit_log entries form
-- a hash chain: hash = SHA-256(prev_hash and the entry's fields), so an edit shows.
CREATE TABLE audit_log (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id CHAR(36) NOT NULL,
  event_type VARCHAR(64) NOT NULL,
  producer VARCHAR(32) NOT NULL,
  actor_user_id VARCHAR(32) NULL,
  actor_ip VARCHAR(64) NULL,
  subject_type VARCHAR(32) NOT NULL,
  subject_id VARCHAR(64) NOT NULL,
  changes LONGTEXT NOT NULL,
  request_id VARCHAR(64) NULL,
  occurred_at VARCHAR(32) NOT NULL,
  recorded_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  prev_hash CHAR(64) NOT NULL,
  hash CHAR(64) NOT NULL,
  UNIQUE KEY uq_audit_event (event_id),
  KEY ix_audit_actor (actor_user_id, id),
  KEY ix_audit_subject (subject_type, subject_id, id),
  KEY ix_audit_type (event_type, id),
  KEY ix_audit_time (recorded_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE login_log (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id CHAR(36) NOT NULL,
  user_id VARCHAR(32) NULL,
  username VARCHAR(64) NOT NULL DEFAULT '',
  ip VARCHAR(64) NOT NULL DEFAULT '',
  user_agent VARCHAR(255) NOT NULL DEFAULT '',
  result ENUM('success','failure','logout') NOT NULL,
  reason VARCHAR(32) NOT NULL DEFAULT '',
  occurred_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_login_event (event_id),
  KEY ix_login_user (username, id),
  KEY ix_login_time (occurred_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE operation_log (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id CHAR(36) NOT NULL,
  request_id VARCHAR(64) NOT NULL,
  user_id VARCHAR(32) NULL,
  ip VARCHAR(64) NOT NULL,
  method VARCHAR(8) NOT NULL,
  path VARCHAR(512) NOT NULL,
  status SMALLINT NOT NULL,
  duration_ms DECIMAL(10,3) NOT NULL,
  occurred_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_operation_event (event_id),
  KEY ix_operation_user (user_id, id),
  KEY ix_operation_time (occurred_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
