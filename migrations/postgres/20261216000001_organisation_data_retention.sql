-- See the SQLite migration of the same name.
ALTER TABLE organisations ADD COLUMN data_retention_days BIGINT
    CHECK (data_retention_days IS NULL OR data_retention_days > 0);
