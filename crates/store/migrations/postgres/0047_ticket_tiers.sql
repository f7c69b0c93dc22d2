-- A ticket's tier as a column of its own (issue 27): it is set when the ticket opens and
-- never changes, and a what-if reads it for every ticket of a window, where taking it out
-- of the state's JSON parsed the whole state. Tickets written before it take theirs from
-- their state.
ALTER TABLE tickets ADD COLUMN tier TEXT NULL;
UPDATE tickets SET tier = state::json ->> 'tier';
