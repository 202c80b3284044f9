-- When a worker took a delivery for an attempt (NULL when not taken). A claim
-- moves next_attempt_at out by a lease so no one else sends it meanwhile; if the
-- process dies mid-attempt, its restart hands the delivery straight back
-- instead of waiting out the lease.
ALTER TABLE webhook_outbox ADD COLUMN claimed_at BIGINT;
