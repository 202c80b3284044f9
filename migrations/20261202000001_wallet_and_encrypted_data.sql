-- Live verification by OpenID4VP wallets, and shared data kept only encrypted.

-- Why a wallet presentation failed the identification (NULL unless it did):
-- untrusted_issuer, invalid_signature, expired_credential, invalid_key_binding,
-- invalid_presentation, missing_credential, age_requirement_not_met, wallet_error.
ALTER TABLE identifications ADD COLUMN failure_reason TEXT;

-- An organisation's age X25519 recipient (age1…). When set, its shared data is
-- encrypted end to end to that recipient and the service cannot read it.
ALTER TABLE organisations ADD COLUMN data_recipient TEXT;

-- Shared attributes, only ever encrypted. 'data_key': AES-256-GCM under a key of
-- the record's own, stored wrapped by the deployment key (a file, never in this
-- database); deleting the row destroys data and key together. 'age': the
-- armored age file for the organisation's recipient (wrapped_key NULL).
-- The earlier table held plain JSON, and only test mode's fixed sample values
-- (no live identification could be verified before now), so it is replaced
-- rather than converted.
DROP TABLE shared_data;
CREATE TABLE shared_data (
    identification_id TEXT PRIMARY KEY REFERENCES identifications (id),
    encryption        TEXT NOT NULL CHECK (encryption IN ('data_key', 'age')),
    wrapped_key       BLOB,
    ciphertext        BLOB NOT NULL,
    created_at        BIGINT NOT NULL
);

-- Data is erased a set time after the identification became final, which is
-- when it was written: the retention sweep walks this index.
CREATE INDEX shared_data_by_age ON shared_data (created_at);

-- Keys the service signs with, generated once when none is configured:
-- 'verifier' signs OpenID4VP request objects; 'test_issuer' signs the test
-- PIDs that only test identifications trust. The private key is PKCS#8 DER
-- wrapped by the deployment key; the certificate is DER.
CREATE TABLE signing_keys (
    name        TEXT PRIMARY KEY CHECK (name IN ('verifier', 'test_issuer')),
    private_key BLOB NOT NULL,
    certificate BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);

-- The OpenID4VP transaction of an identification: each fetch of the request
-- object replaces it (the latest fetch is the one that counts), so a response
-- to an earlier request finds nothing. kid names the response encryption key
-- in the wallet's JWE; response_key is that key's private half, wrapped by the
-- deployment key, and is dropped once a response was accepted. used_at makes
-- the transaction single-use; response_code lets the same-device redirect
-- prove it came from the wallet that answered.
CREATE TABLE wallet_transactions (
    identification_id TEXT PRIMARY KEY REFERENCES identifications (id),
    kid               TEXT NOT NULL UNIQUE,
    state             TEXT NOT NULL,
    nonce             TEXT NOT NULL,
    response_key      BLOB,
    response_code     TEXT,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    used_at           BIGINT
);
