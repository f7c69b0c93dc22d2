-- A what-if reads every ticket of its window by opening instant for its id, org, number and
-- tier (issue 27): with those in the index the read never visits the tickets' rows, whose
-- number and tier lie behind the state's JSON (in SQLite, often on overflow pages), and the
-- index gives the order the read pages by (opening instant, then id) without a sort. The
-- columns never change once a ticket is opened, so a later write of the ticket does not
-- touch the index.
DROP INDEX tickets_opened;
CREATE INDEX tickets_opened ON tickets(opened_at, id, org, number, tier);
