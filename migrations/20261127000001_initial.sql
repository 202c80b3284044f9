-- The initial schema. Times are Unix milliseconds (BIGINT) so that sorting and
-- range checks are plain integer comparisons on SQLite and PostgreSQL alike.

-- An organisation is an integrator. Its webhook_secret (`whsec_` + base64) signs
-- webhooks under Standard Webhooks; it is needed in the clear to sign.
CREATE TABLE organisations (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    webhook_secret TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

-- API keys are stored only as the SHA-256 of their secret: a leaked database
-- does not leak working keys. A revoked key stays for the record.
CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    mode            TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    secret_sha256   TEXT NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);

-- A proofme is an identification template; revision counts its edits.
CREATE TABLE proofmes (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name            TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    revision        BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL
);

CREATE INDEX proofmes_by_organisation ON proofmes (organisation_id);

-- The credentials a proofme requests, in the order they are shown.
CREATE TABLE proofme_credentials (
    proofme_id     TEXT NOT NULL REFERENCES proofmes (id),
    position       BIGINT NOT NULL,
    provider       TEXT NOT NULL,
    credential_key TEXT NOT NULL,
    required       BOOLEAN NOT NULL,
    PRIMARY KEY (proofme_id, position)
);

-- status is the numeric code 0..6 (open .. revoked); the API writes it as a string.
-- metadata is compact JSON text, at most 1024 bytes, checked before it gets here.
CREATE TABLE identifications (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    proofme_id      TEXT NOT NULL REFERENCES proofmes (id),
    mode            TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    status          SMALLINT NOT NULL CHECK (status BETWEEN 0 AND 6),
    description     TEXT,
    is_request      BOOLEAN NOT NULL,
    metadata        TEXT,
    redirect_url    TEXT NOT NULL,
    webhook_url     TEXT,
    locale          TEXT,
    scanned_at      BIGINT,
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Listing is always per organisation and by default newest first.
CREATE INDEX identifications_by_organisation_created
    ON identifications (organisation_id, created_at, id);

-- Idempotency keys are per API key. The stored response is replayed for the
-- same request bytes within 24 hours; older rows are ignored and pruned.
CREATE TABLE idempotency_keys (
    api_key_id      TEXT NOT NULL REFERENCES api_keys (id),
    idempotency_key TEXT NOT NULL,
    request_sha256  TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body   TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (api_key_id, idempotency_key)
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
