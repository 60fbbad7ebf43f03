-- SPDX-License-Identifier: Apache-2.0
-- Follow-up records (跟进记录 / 联系记录) of a customer, seen through their customer like its
-- contacts. The author may edit their own for 24 hours after created_at; then it is history.
CREATE TABLE followups (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id BIGINT UNSIGNED NOT NULL,
  contact_at DATETIME(3) NOT NULL,     -- when the contact happened
  method VARCHAR(64) NOT NULL,         -- dictionary customer_followup_method
  content VARCHAR(2000) NOT NULL,      -- what was said
  next_contact_at DATETIME(3) NULL,    -- the next planned contact it set
  author_id BIGINT UNSIGNED NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  version INT UNSIGNED NOT NULL DEFAULT 1,
  -- a customer's timeline, newest first
  KEY ix_followups_customer (customer_id, contact_at, id),
  KEY ix_followups_author (author_id, contact_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The contacts who took part in a follow-up.
CREATE TABLE followup_contacts (
  followup_id BIGINT UNSIGNED NOT NULL,
  contact_id BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (followup_id, contact_id),
  KEY ix_followup_contacts_contact (contact_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
