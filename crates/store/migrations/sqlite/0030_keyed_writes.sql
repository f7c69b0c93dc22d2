-- A keyed write records its Idempotency-Key's outcome in its own transaction: the claim the
-- request holds (a retry that takes an abandoned key over makes a new one, so the old
-- request's late write finds its claim gone), and what the write wrote (the ticket, and the
-- status it answers with) until the full response is stored. A key whose write committed is
-- never taken over: a retry replays what it wrote.
ALTER TABLE idempotency_keys ADD COLUMN claim TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN written_ticket TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN written_status BIGINT NOT NULL DEFAULT 0;
