-- SPDX-License-Identifier: Apache-2.0
-- Sessions (issue 11 #7: online users, my sessions): a session is a refresh-token family, its
-- id the id of the family's first token; the token in use is the one neither used, revoked nor
-- expired. Each token row keeps the access token issued with it (its jti and exp), so ending a
-- session ends that access token at once too, and a caller can tell which session is theirs.
ALTER TABLE refresh_tokens
  ADD COLUMN access_jti CHAR(36) NULL,
  ADD COLUMN access_exp BIGINT NULL,
  ADD KEY ix_refresh_live (revoked_at, used_at, expires_at);
