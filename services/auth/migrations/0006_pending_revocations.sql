-- SPDX-License-Identifier: Apache-2.0
-- Revocations of a user's access tokens, written in the transaction of the change that ends
-- them (new roles, a disable, a new password) and published to Redis after its commit; a row
-- stays until Redis took it (a sweep retries), so a Redis outage delays a revocation instead of
-- losing it.
CREATE TABLE pending_revocations (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT UNSIGNED NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
