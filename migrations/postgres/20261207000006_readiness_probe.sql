-- Kept in step with the SQLite migration of the same name. PostgreSQL's own
-- readiness probe never writes here; the table stays empty.
CREATE TABLE readiness_probe (b BYTEA NOT NULL);
