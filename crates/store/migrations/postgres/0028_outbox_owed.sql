-- Only what a consumer settles goes into the outbox: the notices the dispatcher hands on
-- (pages, and the alerts of an overdue report or bridge), settle jobs and customer updates.
-- Every other notice (the queue told, targets met or breached, a report owed, the customer
-- page opening) is recorded on the ticket's timeline alone. Such rows written before were
-- owed to no one and stayed pending forever: they are settled as of when they were written.
UPDATE outbox SET dispatched_at = created_at
    WHERE dispatched_at IS NULL
      AND kind NOT IN ('page', 'report.overdue', 'bridge.overdue', 'paging.ended', 'customer.inform');
-- The dispatcher polls an index of just the rows it is still to hand on, so an idle poll
-- reads an empty index (on `outbox_undispatched` it walked every pending row of any kind).
CREATE INDEX outbox_to_dispatch ON outbox(id)
    WHERE dispatched_at IS NULL AND kind IN ('page', 'report.overdue', 'bridge.overdue');
