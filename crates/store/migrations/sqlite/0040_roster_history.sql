-- Whom an org's pages reached, as it changed (see docs/contract.md, "What-if on history"):
-- the roster (TAM, named engineers, schedules in their written form, staff with roles and
-- clearances) a change routed its notices with, written in that change's transaction when it
-- differs from the org's last one recorded. A replay routes each change with the roster in
-- force at its instant, not today's.
CREATE TABLE roster_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org TEXT NOT NULL,
    at BIGINT NOT NULL,
    roster TEXT NOT NULL
);
CREATE INDEX roster_history_org ON roster_history (org, id);
