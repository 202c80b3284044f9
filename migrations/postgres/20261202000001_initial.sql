-- The schema on PostgreSQL: the same tables, columns and meaning as the SQLite
-- migrations one directory up (read those for what each holds), as they stand
-- after all of them. Times are Unix milliseconds (BIGINT); every integer is a
-- BIGINT so that both engines hand the same Rust types back. Columns that are
-- sorted or searched as text use the byte-wise "C" collation, which is how
-- SQLite compares them, so both engines order and match alike.

CREATE TABLE organisations (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    webhook_secret TEXT NOT NULL,
    data_recipient TEXT,
    created_at     BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    mode            TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    secret_sha256   TEXT NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);

CREATE TABLE proofmes (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name            TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    revision        BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL
);

CREATE INDEX proofmes_by_organisation ON proofmes (organisation_id);

CREATE TABLE proofme_credentials (
    proofme_id     TEXT NOT NULL REFERENCES proofmes (id),
    position       BIGINT NOT NULL,
    provider       TEXT NOT NULL,
    credential_key TEXT NOT NULL,
    required       BOOLEAN NOT NULL,
    PRIMARY KEY (proofme_id, position)
);

CREATE TABLE identifications (
    id              TEXT COLLATE "C" PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    proofme_id      TEXT NOT NULL REFERENCES proofmes (id),
    mode            TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    status          BIGINT NOT NULL CHECK (status BETWEEN 0 AND 6),
    -- Bytes: a description is kept as sent, and text cannot hold a NUL.
    -- description_folded is the same with ASCII letters in lower case, what
    -- a search compares (as SQLite's lower() and instr() do).
    description     BYTEA,
    description_folded BYTEA,
    is_request      BOOLEAN NOT NULL,
    metadata        TEXT,
    redirect_url    TEXT NOT NULL,
    webhook_url     TEXT,
    locale          TEXT,
    scanned_at      BIGINT,
    failure_reason  TEXT,
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE INDEX identifications_by_organisation_created
    ON identifications (organisation_id, created_at, id);
CREATE INDEX identifications_open_by_expiry ON identifications (status, expires_at);

CREATE TABLE identification_counts (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    mode            TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    count           BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, mode)
);

-- The primary key is what makes a key hold across instances: of two creates
-- with one key, the second one's insert waits for the first and then fails.
CREATE TABLE idempotency_keys (
    api_key_id      TEXT NOT NULL REFERENCES api_keys (id),
    idempotency_key TEXT NOT NULL,
    request_sha256  TEXT NOT NULL,
    response_status BIGINT NOT NULL,
    response_body   TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (api_key_id, idempotency_key)
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

CREATE TABLE status_changes (
    identification_id TEXT NOT NULL REFERENCES identifications (id),
    seq               BIGINT NOT NULL,
    from_status       BIGINT,
    to_status         BIGINT NOT NULL CHECK (to_status BETWEEN 0 AND 6),
    cause             TEXT NOT NULL,
    changed_at        BIGINT NOT NULL,
    PRIMARY KEY (identification_id, seq)
);

CREATE TABLE webhook_outbox (
    id                TEXT PRIMARY KEY,
    identification_id TEXT NOT NULL REFERENCES identifications (id),
    organisation_id   TEXT NOT NULL REFERENCES organisations (id),
    seq               BIGINT NOT NULL,
    url               TEXT NOT NULL,
    payload           TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'gone')),
    attempts          BIGINT NOT NULL DEFAULT 0,
    next_attempt_at   BIGINT NOT NULL,
    claimed_at        BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (identification_id, seq)
);

CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt_at);

CREATE TABLE webhook_attempts (
    outbox_id    TEXT NOT NULL REFERENCES webhook_outbox (id),
    attempt      BIGINT NOT NULL,
    attempted_at BIGINT NOT NULL,
    status_code  BIGINT,
    error        TEXT,
    duration_ms  BIGINT NOT NULL,
    PRIMARY KEY (outbox_id, attempt)
);

CREATE TABLE shared_data (
    identification_id TEXT PRIMARY KEY REFERENCES identifications (id),
    encryption        TEXT NOT NULL CHECK (encryption IN ('data_key', 'age')),
    wrapped_key       BYTEA,
    ciphertext        BYTEA NOT NULL,
    created_at        BIGINT NOT NULL
);

CREATE INDEX shared_data_by_age ON shared_data (created_at);

CREATE TABLE signing_keys (
    name        TEXT PRIMARY KEY CHECK (name IN ('verifier', 'test_issuer')),
    private_key BYTEA NOT NULL,
    certificate BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE wallet_transactions (
    identification_id TEXT PRIMARY KEY REFERENCES identifications (id),
    kid               TEXT NOT NULL UNIQUE,
    state             TEXT NOT NULL,
    nonce             TEXT NOT NULL,
    response_key      BYTEA,
    response_code     TEXT,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    used_at           BIGINT
);
