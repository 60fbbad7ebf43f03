-- SPDX-License-Identifier: Apache-2.0
-- One spelling of a username. Under utf8mb4_unicode_ci with PAD SPACE, 'sec_mgr   ', 'SëC_MGR'
-- and 'ſec_mgr' all found the account 'sec_mgr' while the login throttle counted each apart.
-- The service now accepts only [a-z0-9][a-z0-9._-]{2,31} (ASCII letters folded to lower case)
-- and the column compares bytes, without padding. Names stored in capitals are folded here:
-- the old collation kept two spellings of one name from both existing, so nothing collides.
-- A name outside the set (none is made by this product) can no longer sign in until renamed.
UPDATE users SET username = LOWER(username) WHERE username <> BINARY LOWER(username)
  AND username REGEXP '^[A-Za-z0-9._-]+$';
ALTER TABLE users MODIFY username VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL;
