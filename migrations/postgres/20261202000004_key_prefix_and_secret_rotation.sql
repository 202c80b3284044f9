-- What the organisation sees of its keys, and webhook secret rotation.

-- The first 12 characters of the secret (`test_AbC1234`), so people can tell
-- their keys apart; too short to authenticate with (the random part of a
-- secret is 30 characters). NULL for keys made before it was kept.
ALTER TABLE api_keys ADD COLUMN secret_prefix TEXT;
-- When the key last authenticated a request, to the minute: written at most
-- once a minute per key, never on every request.
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
CREATE INDEX api_keys_by_organisation ON api_keys (organisation_id, created_at);

-- The secret before the last rotation, which keeps signing (beside the new
-- one) until previous_webhook_secret_expires_at, so receivers can switch
-- without missing a webhook.
ALTER TABLE organisations ADD COLUMN previous_webhook_secret TEXT;
ALTER TABLE organisations ADD COLUMN previous_webhook_secret_expires_at BIGINT;

-- Test webhooks sent from the dashboard, and what came of each (the latest
-- few per organisation are kept).
CREATE TABLE test_webhooks (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    url             TEXT NOT NULL,
    attempted_at    BIGINT NOT NULL,
    status_code     BIGINT,
    error           TEXT,
    duration_ms     BIGINT NOT NULL
);
CREATE INDEX test_webhooks_by_organisation ON test_webhooks (organisation_id, attempted_at);
