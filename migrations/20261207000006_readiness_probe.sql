-- Where /readyz writes while creates fail for lack of space: a blob of a few
-- dozen kilobytes, inserted and deleted in one transaction, needs about as
-- much new room as a create does, which a one-page probe does not (it fits in
-- WAL space a failed create already took). Always empty between probes.
CREATE TABLE readiness_probe (b BLOB NOT NULL);
