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
ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_name_check;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_name_check
    CHECK (name IN ('verifier', 'test_issuer', 'test_pid_issuer', 'test_mdoc_issuer'));
ALTER TABLE signing_keys ADD COLUMN issuer_certificate BYTEA;
