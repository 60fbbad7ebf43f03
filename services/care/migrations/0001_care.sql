-- SPDX-License-Identifier: Apache-2.0
-- Customer care (客户关怀): plans, tasks, and the contacts whose birthdays the daily scan greets.
-- Who manages each customer is libcrm's customer_owners (the platform keeps it).

-- The contacts as the care service knows them, from the customer service's contact.* events:
-- never read from the customer service's tables. 'version' is the contact's.
CREATE TABLE care_contacts (
  contact_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  customer_id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(30) NOT NULL DEFAULT '',
  decision_maker TINYINT(1) NOT NULL DEFAULT 0,
  birth_month TINYINT UNSIGNED NULL,
  birth_day TINYINT UNSIGNED NULL,
  birth_year SMALLINT UNSIGNED NULL,
  deleted TINYINT(1) NOT NULL DEFAULT 0,
  version INT UNSIGNED NOT NULL DEFAULT 0,
  -- the scan: today's birthdays (3 million contacts: one index range per day)
  KEY ix_care_contacts_birthday (birth_month, birth_day),
  KEY ix_care_contacts_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A plan: care for one contact, several, or the contacts a filter matches, once or repeating.
-- 'next_at' is the planned time of the occurrence to make next (NULL: none left).
CREATE TABLE care_plans (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  title VARCHAR(100) NOT NULL,
  care_type VARCHAR(64) NOT NULL,
  content VARCHAR(1000) NOT NULL DEFAULT '', -- what to do
  contact_ids VARCHAR(4000) NOT NULL DEFAULT '[]', -- the contacts picked (JSON), or
  filter VARCHAR(1000) NULL,                       -- the filter ({level, industry, decision_maker})
  repeat_unit ENUM('none', 'day', 'week', 'month', 'quarter') NOT NULL DEFAULT 'none',
  repeat_every SMALLINT UNSIGNED NOT NULL DEFAULT 1,
  until DATE NULL,
  first_at DATETIME(3) NOT NULL,
  next_at DATETIME(3) NULL,
  occurrences INT UNSIGNED NOT NULL DEFAULT 0,
  status ENUM('active', 'ended') NOT NULL DEFAULT 'active',
  created_by BIGINT UNSIGNED NOT NULL,
  -- the creator's data scope: the filter's contacts are those it covers, at every occurrence
  creator_scope ENUM('SELF', 'DEPT', 'DEPT_AND_CHILD', 'ALL') NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  version INT UNSIGNED NOT NULL DEFAULT 1,
  KEY ix_care_plans_next (status, next_at),
  KEY ix_care_plans_creator (created_by, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A task: one care action for a customer (and a contact), by its responsible manager.
-- status pending / done / cancelled (overdue: pending past planned_at; see care.h's one
-- transition function). A birthday task is one per contact per year (birthday_year), a plan's
-- one per occurrence per contact: the unique keys make a second scan or a retried round
-- change nothing. A task cancelled because its customer or contact went away
-- (cancelled_by_system) comes back with a restore.
CREATE TABLE care_tasks (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  kind ENUM('birthday', 'plan', 'manual') NOT NULL,
  plan_id BIGINT UNSIGNED NULL,
  occurrence INT UNSIGNED NULL,
  birthday_year SMALLINT UNSIGNED NULL,
  customer_id BIGINT UNSIGNED NOT NULL,
  contact_id BIGINT UNSIGNED NULL,
  manager_id BIGINT UNSIGNED NOT NULL,
  care_type VARCHAR(64) NOT NULL,
  title VARCHAR(100) NOT NULL,
  planned_at DATETIME(3) NOT NULL,
  status ENUM('pending', 'done', 'cancelled') NOT NULL DEFAULT 'pending',
  content VARCHAR(2000) NOT NULL DEFAULT '',   -- what was done
  done_at DATETIME(3) NULL,
  feedback VARCHAR(1000) NOT NULL DEFAULT '',  -- the customer's feedback
  satisfaction ENUM('very_satisfied', 'satisfied', 'neutral', 'dissatisfied',
                    'very_dissatisfied') NULL,
  cancel_reason VARCHAR(200) NOT NULL DEFAULT '',
  cancelled_by_system TINYINT(1) NOT NULL DEFAULT 0,
  due_notified TINYINT(1) NOT NULL DEFAULT 0,  -- care.due published
  created_by BIGINT UNSIGNED NULL,             -- NULL: the scan
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  version INT UNSIGNED NOT NULL DEFAULT 1,
  UNIQUE KEY uq_care_tasks_birthday (contact_id, birthday_year),
  UNIQUE KEY uq_care_tasks_occurrence (plan_id, occurrence, contact_id),
  -- my work: a manager's tasks by status and time; the due pass
  KEY ix_care_tasks_manager (manager_id, status, planned_at),
  KEY ix_care_tasks_due (status, due_notified, planned_at),
  KEY ix_care_tasks_customer (customer_id, status),
  KEY ix_care_tasks_contact (contact_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The days whose birthdays the scan has done: a second scan of a day makes nothing, and a
-- scan missed while the service was down is caught up at its start.
CREATE TABLE care_scan_days (
  day DATE NOT NULL PRIMARY KEY,
  tasks INT UNSIGNED NOT NULL DEFAULT 0,
  ran_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB;
