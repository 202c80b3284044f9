-- Proofme revisions: every edit of a proofme makes a new revision, and each
-- identification keeps the revision it was created with, so what it asks for
-- and why never changes under it. Existing proofmes and identifications are
-- revision 1.
CREATE TABLE proofme_revisions (
    proofme_id TEXT NOT NULL REFERENCES proofmes (id),
    revision   BIGINT NOT NULL,
    name       TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (proofme_id, revision)
);

-- The credentials of each revision, in the order they are shown.
CREATE TABLE proofme_revision_credentials (
    proofme_id     TEXT NOT NULL,
    revision       BIGINT NOT NULL,
    position       BIGINT NOT NULL,
    provider       TEXT NOT NULL,
    credential_key TEXT NOT NULL,
    required       BOOLEAN NOT NULL,
    PRIMARY KEY (proofme_id, revision, position),
    FOREIGN KEY (proofme_id, revision) REFERENCES proofme_revisions (proofme_id, revision)
);

INSERT INTO proofme_revisions (proofme_id, revision, name, purpose, created_at)
    SELECT id, revision, name, purpose, created_at FROM proofmes;

INSERT INTO proofme_revision_credentials
    (proofme_id, revision, position, provider, credential_key, required)
    SELECT c.proofme_id, p.revision, c.position, c.provider, c.credential_key, c.required
    FROM proofme_credentials c JOIN proofmes p ON p.id = c.proofme_id;

ALTER TABLE identifications ADD COLUMN proofme_revision BIGINT NOT NULL DEFAULT 1;

-- A proofme's public link: each visit of /p/{slug} creates an identification
-- with these URLs and mode. The slug is random and is what keeps the link
-- unguessable; removing the link deletes the row.
CREATE TABLE proofme_public_links (
    proofme_id   TEXT PRIMARY KEY REFERENCES proofmes (id),
    slug         TEXT NOT NULL UNIQUE,
    redirect_url TEXT NOT NULL,
    webhook_url  TEXT,
    mode         TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    created_at   BIGINT NOT NULL
);
