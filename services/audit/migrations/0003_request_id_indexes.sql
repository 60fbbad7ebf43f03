-- SPDX-License-Identifier: Apache-2.0
-- Finding the audit entries and the operation of one request (the request id a user reports,
-- or the one an operation log row shows) without scanning the logs. Online: writers go on.
ALTER TABLE audit_log ADD KEY ix_audit_request (request_id), ALGORITHM=INPLACE, LOCK=NONE;
ALTER TABLE operation_log ADD KEY ix_operation_request (request_id), ALGORITHM=INPLACE, LOCK=NONE;
