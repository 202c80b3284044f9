-- How many identifications each organisation has, per mode, kept in the same
-- transaction as every insert. An unfiltered list's total then costs one or two
-- row reads instead of a scan that grows with the table.
CREATE TABLE identification_counts (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    mode            TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    count           BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, mode)
);

INSERT INTO identification_counts (organisation_id, mode, count)
SELECT organisation_id, mode, COUNT(*) FROM identifications GROUP BY organisation_id, mode;
