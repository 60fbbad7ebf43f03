-- SPDX-License-Identifier: Apache-2.0
-- What auth has announced to the other services' projections once (see catalogue.c,
-- announce_projection): when a projection starts to keep more about users, every department
-- and user is announced again, once, so that an existing deployment's projections are whole.
CREATE TABLE announcements (
  name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  announced_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB;
