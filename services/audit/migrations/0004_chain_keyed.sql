-- SPDX-License-Identifier: Apache-2.0
-- The chain is keyed from now on (issue 10, #10): an entry's hash is HMAC-SHA256 with a key
-- the database never holds (chain_key_file), so whoever can write this table cannot recompute
-- it. Entries written before are unkeyed SHA-256 (chain_version 1) and stay as they are: the
-- first keyed entry's HMAC covers the last of them, and verify refuses an unkeyed entry after
-- a keyed one. A row inserted without naming its version counts as keyed (and fails). Instant:
-- no copy of the log.
ALTER TABLE audit_log ADD COLUMN chain_version TINYINT UNSIGNED NOT NULL DEFAULT 1, ALGORITHM=INSTANT;
ALTER TABLE audit_log ALTER COLUMN chain_version SET DEFAULT 2, ALGORITHM=INSTANT;
