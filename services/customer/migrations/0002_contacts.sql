-- SPDX-License-Identifier: Apache-2.0
-- Contacts (联系人) of a customer. They have no deleted_at of their own: they are seen through
-- their customer (whoever may see the customer sees its contacts), so they go to the recycle
-- bin and come back with it. A contact's own delete removes the row (the audit keeps it).
CREATE TABLE contacts (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(30) NOT NULL,
  -- the name folded like customers.name_search, for the keyword search (a prefix)
  name_search VARCHAR(30) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  gender ENUM('', 'male', 'female') NOT NULL DEFAULT '',
  position VARCHAR(50) NOT NULL DEFAULT '',
  decision_maker TINYINT(1) NOT NULL DEFAULT 0, -- 关键决策人
  reports_to BIGINT UNSIGNED NULL,              -- another contact of the same customer
  mobile VARCHAR(11) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
  telephone VARCHAR(32) NOT NULL DEFAULT '',
  telephone_digits VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
  email VARCHAR(128) NOT NULL DEFAULT '',
  wechat VARCHAR(64) NOT NULL DEFAULT '',
  -- the birthday: month and day, the year optional (NULL), all NULL when not given
  birth_year SMALLINT UNSIGNED NULL,
  birth_month TINYINT UNSIGNED NULL,
  birth_day TINYINT UNSIGNED NULL,
  address VARCHAR(200) NOT NULL DEFAULT '',
  notes VARCHAR(1000) NOT NULL DEFAULT '',
  is_primary TINYINT(1) NOT NULL DEFAULT 0,
  -- one primary contact per customer: the unique key sees only primaries
  primary_of BIGINT UNSIGNED AS (IF(is_primary = 1, customer_id, NULL)) PERSISTENT,
  created_by BIGINT UNSIGNED NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  version INT UNSIGNED NOT NULL DEFAULT 1,
  KEY ix_contacts_customer (customer_id, id),
  UNIQUE KEY uq_contacts_primary (primary_of),
  KEY ix_contacts_name (name_search),
  KEY ix_contacts_mobile (mobile),
  KEY ix_contacts_telephone (telephone_digits),
  KEY ix_contacts_birthday (birth_month, birth_day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
