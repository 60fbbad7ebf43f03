-- SPDX-License-Identifier: Apache-2.0
-- The last transfer applied to each customer (transfer.completed's transfer_id): transfers of
-- one customer are numbered in the order the transfer service completed them, so one that
-- arrives after a later one (a redelivery from the pending list, a claim after a crash)
-- changes nothing. 0: never transferred.
ALTER TABLE customers ADD COLUMN last_transfer_id BIGINT UNSIGNED NOT NULL DEFAULT 0 AFTER owner_time;
