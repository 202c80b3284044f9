-- What people did in the dashboard, per organisation: append-only. Rows are
-- never changed (the trigger refuses it); only the retention purge deletes
-- them. The actor is kept as it was (user id and email at the time), so the
-- log still reads right after a user changes or goes; a failed sign-in has
-- no user id, only the email of the account it was tried against.
CREATE TABLE audit_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    at              INTEGER NOT NULL,
    actor_user_id   TEXT,
    actor_email     TEXT,
    action          TEXT NOT NULL,
    target          TEXT,
    detail          TEXT NOT NULL DEFAULT ''
);
-- The page lists one organisation's events newest first.
CREATE INDEX audit_events_by_organisation ON audit_events (organisation_id, at, id);
-- The retention purge deletes by age alone.
CREATE INDEX audit_events_by_time ON audit_events (at);

CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
