-- See the SQLite migration of the same name.
CREATE TABLE audit_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    at              BIGINT NOT NULL,
    actor_user_id   TEXT,
    actor_email     TEXT COLLATE "C",
    action          TEXT COLLATE "C" NOT NULL,
    target          TEXT,
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_by_organisation ON audit_events (organisation_id, at, id);
CREATE INDEX audit_events_by_time ON audit_events (at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
