-- People who sign in to the dashboard, each for one organisation. The email
-- is kept lower-cased, so that it matches however it is typed.
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    email           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

-- Failed sign-ins, by what they count against ("email:<sha256>" or
-- "addr:<client address>"), for the login throttle. Kept in the database so
-- that every instance counts the same failures.
CREATE TABLE login_failures (
    subject TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX login_failures_by_subject ON login_failures (subject, at);

-- Dashboard sessions (tower-sessions' SQLite store, under our own name).
-- The store writes the expiry as RFC 3339 text in UTC, and compares it as text.
CREATE TABLE dashboard_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BLOB NOT NULL,
    expiry_date TEXT NOT NULL
);
