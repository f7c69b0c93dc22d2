-- Timer claims: a sweep leases the due timers it takes, so several instances never run the
-- same timer at once, and a crashed instance's timers return when the lease ends.
ALTER TABLE timers ADD COLUMN claimed_until BIGINT NULL;
