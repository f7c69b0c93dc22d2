-- Every keyed write records its Idempotency-Key's outcome in its own transaction, not only a
-- ticket's: what it wrote is a kind and an id (a ticket, a user, a schedule, a component…),
-- with how a retry replays it ('reread': read it again; 'secret': 409 naming it; 'done': the
-- recorded status, said done). '' while nothing is written. 0030's written_ticket becomes a
-- ticket's id here.
ALTER TABLE idempotency_keys ADD COLUMN written_as TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN written_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN written_id TEXT NOT NULL DEFAULT '';
UPDATE idempotency_keys SET written_as = 'reread', written_kind = 'ticket', written_id = written_ticket WHERE written_ticket <> '';
ALTER TABLE idempotency_keys DROP COLUMN written_ticket;
