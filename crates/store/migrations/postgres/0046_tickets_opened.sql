-- The tickets of a window by opening instant, whatever their org (issue 27): a what-if
-- reads a quarter's tickets in this order, which is about the order they were written in
-- (ids sort by creation), so the tickets' rows and their timelines' index entries are read
-- page after page instead of once per org each page holds.
CREATE INDEX tickets_opened ON tickets(opened_at);
