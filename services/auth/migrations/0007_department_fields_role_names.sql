-- SPDX-License-Identifier: Apache-2.0
-- What an organisation chart shows of a department besides its name (issue 11 #7): its leader
-- (a user; cleared if that user row ever went away), a phone, an email and whether it is in use.
-- Roles get an English name beside the Chinese one, and the built-in roles have theirs.
ALTER TABLE departments
  ADD COLUMN leader_id BIGINT UNSIGNED NULL AFTER name,
  ADD COLUMN phone VARCHAR(32) NOT NULL DEFAULT '' AFTER leader_id,
  ADD COLUMN email VARCHAR(128) NOT NULL DEFAULT '' AFTER phone,
  ADD COLUMN status ENUM('enabled','disabled') NOT NULL DEFAULT 'enabled' AFTER email,
  ADD KEY ix_dept_leader (leader_id),
  ADD CONSTRAINT fk_dept_leader FOREIGN KEY (leader_id) REFERENCES users (id) ON DELETE SET NULL;

ALTER TABLE roles ADD COLUMN name_en VARCHAR(64) NOT NULL DEFAULT '' AFTER name;
UPDATE roles SET name_en = 'Administrator' WHERE code = 'admin' AND builtin = 1;
UPDATE roles SET name_en = 'Sales director' WHERE code = 'sales_director' AND builtin = 1;
UPDATE roles SET name_en = 'Customer manager' WHERE code = 'customer_manager' AND builtin = 1;
UPDATE roles SET name_en = 'Read-only user' WHERE code = 'readonly' AND builtin = 1;
