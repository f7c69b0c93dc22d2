-- /metrics counts unresolved tickets by SLA state on every scrape: a partial index over just
-- those rows turns a scan of every ticket (with its state JSON) into a scan of a small index.
CREATE INDEX tickets_open_sla ON tickets(sla_state) WHERE status <> 'resolved';
