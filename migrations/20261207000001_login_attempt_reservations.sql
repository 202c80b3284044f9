-- Sign-in takes its place in the throttle before the password is checked: a
-- row is written for each subject (email, address) in the same transaction
-- that counts them, so concurrent attempts cannot all see room. `attempt`
-- names the reservation, so that a successful sign-in can take its own rows
-- back; a failed attempt leaves them as its failure. Older rows have none.
ALTER TABLE login_failures ADD COLUMN attempt TEXT;
CREATE INDEX login_failures_by_attempt ON login_failures (attempt);
