-- The service's own issuers for test identifications.
--
-- test_pid_issuer replaces test_issuer, whose certificate carried no
-- keyUsage (which the X.509 path rules now require of a signing leaf); the
-- old row is left alone and unused.
--
-- test_mdoc_issuer is the document signer of test mdocs. It is issued by a
-- test IACA root made at the same moment, whose key is then dropped: only
-- its certificate is kept, in issuer_certificate, for test identifications
-- to trust.
--
-- SQLite cannot change a CHECK constraint in place: the table is made anew.
CREATE TABLE signing_keys_new (
    name               TEXT PRIMARY KEY CHECK (name IN ('verifier', 'test_issuer', 'test_pid_issuer', 'test_mdoc_issuer')),
    private_key        BLOB NOT NULL,
    certificate        BLOB NOT NULL,
    issuer_certificate BLOB,
    created_at         BIGINT NOT NULL
);
INSERT INTO signing_keys_new (name, private_key, certificate, created_at)
    SELECT name, private_key, certificate, created_at FROM signing_keys;
DROP TABLE signing_keys;
ALTER TABLE signing_keys_new RENAME TO signing_keys;
