-- A wallet that cannot encrypt may send its error response in the clear
-- (OpenID4VP 1.0 section 8.3.1): it names its transaction only by state, so
-- the answer is found by state, in one lookup however many transactions
-- there are.
CREATE INDEX wallet_transactions_by_state ON wallet_transactions (state);
