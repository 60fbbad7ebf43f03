-- SPDX-License-Identifier: Apache-2.0
-- Notices (通知) of the bell: one row per notice of one user. The text is data (kind + data):
-- the console renders it in the reader's language; title/body are a short English rendering
-- for API users. A grouped notice (a bulk hand-over: one per transfer and receiver) has a
-- group_key and grows (data.count) instead of multiplying.
CREATE TABLE notices (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,   -- the clock's value when it was made (= its first seq)
  user_id BIGINT UNSIGNED NOT NULL,          -- whose notice it is
  kind VARCHAR(32) NOT NULL,                 -- customer_moved, handover_finished, care_due
  group_key VARCHAR(64) NULL,                -- "transfer:<id>" for customer_moved; NULL: alone
  title VARCHAR(200) NOT NULL,
  body VARCHAR(500) NOT NULL DEFAULT '',
  link VARCHAR(300) NULL,                    -- the console's page of what it is about
  data JSON NOT NULL,                        -- kind's parameters (names, ids, count)
  seq BIGINT UNSIGNED NOT NULL,              -- the clock's value at its last change (made, grown)
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  read_at DATETIME(3) NULL,
  UNIQUE KEY uk_notices_group (user_id, kind, group_key),
  KEY ix_notices_user (user_id, id),
  KEY ix_notices_unread (user_id, read_at),
  KEY ix_notices_seq (seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The notices' clock: every transaction that makes or grows a notice takes the next value under
-- this row's lock, which it holds until it commits. Values therefore become visible in order:
-- once seq N can be read, every smaller one is committed or gone, and the streams' poll of
-- "seq > last" misses nothing however transactions interleave.
CREATE TABLE notice_clock (
  id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  seq BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB;
INSERT INTO notice_clock (id, seq) VALUES (1, 0);
