-- An organisation may keep shared data for fewer days than the deployment
-- does (PROOFME_DATA_RETENTION_DAYS); NULL keeps the deployment's period.
-- The dashboard allows only 1 up to the deployment's days; the retention
-- sweep erases by whichever period is shorter.
ALTER TABLE organisations ADD COLUMN data_retention_days INTEGER
    CHECK (data_retention_days IS NULL OR data_retention_days > 0);
