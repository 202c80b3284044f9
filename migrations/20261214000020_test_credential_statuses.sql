-- The status of every credential the test issuer issues: one entry of a
-- Token Status List (draft-ietf-oauth-status-list) each, served at
-- /oid4vp/test-issuer/status-lists/{list_no}, so integrators can try a
-- revoked or suspended credential.
--
-- Entries are handed out in order: entry n is index n % 65536 of list
-- n / 65536. Every list has the same, fixed size, so a verifier's cached
-- copy of a list still covers credentials issued after it was fetched;
-- the size can never change without moving every entry, hence the CHECK.
--
-- status is the list's value: 0 valid, 1 invalid (revoked), 2 suspended.
-- Identifications are never deleted, so every entry keeps its owner.
CREATE TABLE test_credential_statuses (
    list_no           BIGINT NOT NULL CHECK (list_no >= 0),
    idx               BIGINT NOT NULL CHECK (idx BETWEEN 0 AND 65535),
    status            BIGINT NOT NULL CHECK (status BETWEEN 0 AND 2),
    identification_id TEXT NOT NULL REFERENCES identifications (id),
    issued_at         BIGINT NOT NULL,
    PRIMARY KEY (list_no, idx)
);

-- Revoking, suspending or reinstating finds an identification's entries.
CREATE INDEX test_credential_statuses_by_identification
    ON test_credential_statuses (identification_id);
