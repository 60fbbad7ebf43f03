-- SPDX-License-Identifier: Apache-2.0
-- The names of the log's users and subjects, as the events told them (issue 11 #4): the lists
-- answer actor_name and subject_name from here, so a reader sees 王总监, not "user #3". Like the
-- logs, it is append-only (the service may only insert and read): a rename is a new row, and the
-- newest non-empty username and name of a subject are its names.
CREATE TABLE subject_names (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id CHAR(36) NOT NULL,
  subject_type VARCHAR(32) NOT NULL,
  subject_id VARCHAR(64) NOT NULL,
  username VARCHAR(64) NOT NULL DEFAULT '',
  name VARCHAR(128) NOT NULL DEFAULT '',
  UNIQUE KEY uq_subject_names_event (event_id),
  KEY ix_subject_names_subject (subject_type, subject_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The names the log holds already: creations carry their fields as set, updates their changes.
INSERT INTO subject_names (event_id, subject_type, subject_id, username, name)
SELECT a.event_id, a.subject_type, a.subject_id,
       LEFT(COALESCE(MAX(CASE WHEN j.field = 'username' THEN j.after END), ''), 64),
       LEFT(COALESCE(MAX(CASE WHEN j.field IN ('display_name', 'name') THEN j.after END), ''), 128)
FROM audit_log a,
     JSON_TABLE(a.changes, '$[*]' COLUMNS (field VARCHAR(64) PATH '$.field',
                                           after VARCHAR(255) PATH '$.after')) j
WHERE a.event_type IN ('user.created', 'user.updated', 'department.created', 'department.updated',
                       'role.created', 'role.updated')
  AND j.field IN ('username', 'display_name', 'name') AND j.after IS NOT NULL
GROUP BY a.id, a.event_id, a.subject_type, a.subject_id
ORDER BY a.id;
