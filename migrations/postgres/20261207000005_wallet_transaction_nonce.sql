-- The test issuer serves only a wallet holding a live transaction of a test
-- identification, found by the request's nonce: an index, so that the check
-- stays one lookup however many transactions there are.
CREATE INDEX wallet_transactions_by_nonce ON wallet_transactions (nonce);
