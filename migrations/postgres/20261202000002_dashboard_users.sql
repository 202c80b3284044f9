-- People who sign in to the dashboard; see the SQLite migration of the same
-- name for what each table holds.
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    email           TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE login_failures (
    subject TEXT COLLATE "C" NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX login_failures_by_subject ON login_failures (subject, at);

-- Dashboard sessions (tower-sessions' PostgreSQL store, under our own name).
CREATE TABLE dashboard_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BYTEA NOT NULL,
    expiry_date TIMESTAMPTZ NOT NULL
);
