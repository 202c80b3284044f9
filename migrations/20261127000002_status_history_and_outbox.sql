-- Every status an identification takes, in order, with when and why. seq 0 is
-- its creation (from_status NULL). (identification_id, seq) is unique, so two
-- writers can never both record "the next" change.
CREATE TABLE status_changes (
    identification_id TEXT NOT NULL REFERENCES identifications (id),
    seq               BIGINT NOT NULL,
    from_status       SMALLINT,
    to_status         SMALLINT NOT NULL CHECK (to_status BETWEEN 0 AND 6),
    cause             TEXT NOT NULL,
    changed_at        BIGINT NOT NULL,
    PRIMARY KEY (identification_id, seq)
);

-- The webhook outbox: one row per status change of an identification with a
-- webhook_url, written in the same transaction as the change, so a change is
-- never committed without its webhook. id is the Standard Webhooks message id,
-- kept across retries. state: pending, delivered, failed (retries exhausted),
-- gone (the receiver answered 410).
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
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (identification_id, seq)
);

-- The worker's queue: due pending rows, oldest first.
CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt_at);

-- Each delivery attempt and what came of it.
CREATE TABLE webhook_attempts (
    outbox_id    TEXT NOT NULL REFERENCES webhook_outbox (id),
    attempt      BIGINT NOT NULL,
    attempted_at BIGINT NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  BIGINT NOT NULL,
    PRIMARY KEY (outbox_id, attempt)
);

-- Open and pending identifications by expiry, for the expiry sweep.
CREATE INDEX identifications_open_by_expiry ON identifications (status, expires_at);

-- Attributes shared by the customer, kept apart so they can be erased on
-- request without touching the identification record.
CREATE TABLE shared_data (
    identification_id TEXT PRIMARY KEY REFERENCES identifications (id),
    data              TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);
