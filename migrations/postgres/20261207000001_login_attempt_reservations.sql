-- See the SQLite migration of the same name.
ALTER TABLE login_failures ADD COLUMN attempt TEXT COLLATE "C";
CREATE INDEX login_failures_by_attempt ON login_failures (attempt);
