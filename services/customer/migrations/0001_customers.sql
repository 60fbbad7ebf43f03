-- SPDX-License-Identifier: Apache-2.0
-- Customers (客户) and their keyword index. Text columns are NOT NULL with '' for "not given",
-- so that every list sort has a NOT NULL column (listq's keyset cursors need one) and a filter
-- never has to say "IS NULL OR". Deleted customers keep their row (deleted_at): the recycle bin.
CREATE TABLE customers (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(60) NOT NULL,
  -- the name folded for search (full width to half width, lower case, no spaces) and, further,
  -- for duplicates (有限责任公司 / 股份有限公司 / (股份) as 有限公司): see rules.h
  name_search VARCHAR(60) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  name_norm VARCHAR(60) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  -- 统一社会信用代码, NULL when not given (unique when given, the recycle bin included)
  credit_code CHAR(18) CHARACTER SET ascii COLLATE ascii_bin NULL,
  industry VARCHAR(64) NOT NULL DEFAULT '',
  source VARCHAR(64) NOT NULL DEFAULT '',
  level VARCHAR(64) NOT NULL DEFAULT '',
  province VARCHAR(32) NOT NULL DEFAULT '',
  city VARCHAR(32) NOT NULL DEFAULT '',
  district VARCHAR(32) NOT NULL DEFAULT '',
  address VARCHAR(200) NOT NULL DEFAULT '',
  telephone VARCHAR(32) NOT NULL DEFAULT '',
  -- the digits of telephone, for the phone search and the duplicate rule
  telephone_digits VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
  mobile VARCHAR(11) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
  email VARCHAR(128) NOT NULL DEFAULT '',
  website VARCHAR(200) NOT NULL DEFAULT '',
  wechat VARCHAR(64) NOT NULL DEFAULT '',
  status ENUM('potential','active','at_risk','lost') NOT NULL DEFAULT 'potential',
  deal_status ENUM('undealt','dealt') NOT NULL DEFAULT 'undealt',
  deal_time DATETIME(3) NULL,
  -- the owner (a user id of the auth service) and since when; the data scope is on manager_id
  -- with the owner's department read from scope_users (so a user who moves department takes
  -- their customers along, with no customer row to rewrite)
  manager_id BIGINT UNSIGNED NOT NULL,
  owner_time DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  tags VARCHAR(400) NOT NULL DEFAULT '[]', -- a JSON array of strings
  notes VARCHAR(2000) NOT NULL DEFAULT '',
  last_contact_at DATETIME(3) NULL,
  last_contact_content VARCHAR(500) NOT NULL DEFAULT '',
  next_contact_at DATETIME(3) NULL,
  followed_up TINYINT(1) NOT NULL DEFAULT 0, -- followed up since it was assigned to its owner
  created_by BIGINT UNSIGNED NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  version INT UNSIGNED NOT NULL DEFAULT 1,
  deleted_at DATETIME(3) NULL,
  deleted_by BIGINT UNSIGNED NULL,
  UNIQUE KEY uq_customers_credit_code (credit_code),
  -- the list: live rows (deleted_at IS NULL) by each sort, with and without an owner
  KEY ix_customers_live_created (deleted_at, created_at),
  KEY ix_customers_live_updated (deleted_at, updated_at),
  KEY ix_customers_live_name (deleted_at, name),
  KEY ix_customers_live_owner_time (deleted_at, owner_time),
  KEY ix_customers_manager_created (manager_id, deleted_at, created_at),
  KEY ix_customers_manager_next (manager_id, deleted_at, next_contact_at),
  KEY ix_customers_manager_last (manager_id, deleted_at, last_contact_at),
  -- duplicates and the phone search (prefix)
  KEY ix_customers_name_norm (name_norm),
  KEY ix_customers_mobile (mobile),
  KEY ix_customers_telephone (telephone_digits),
  -- the recycle bin, newest deletion first
  KEY ix_customers_deleted (deleted_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The keyword index: every distinct pair of consecutive characters (a bigram) of a customer's
-- name_search, written in the customer's transaction. A keyword of two or more characters
-- finds the ids holding all its bigrams (the rarest drives) and the row is rechecked with
-- LIKE on name_search, so the answer is exact. Figures: tests/bench/search-spike/README.md.
CREATE TABLE customer_search (
  gram CHAR(2) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  customer_id BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (gram, customer_id),
  KEY ix_customer_search_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
