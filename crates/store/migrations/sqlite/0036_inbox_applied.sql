-- A ticket change made by processing an inbox item (a monitoring signal) commits the item's
-- receipt, an id derived from the stored item, in the change's own transaction. An item
-- processed again after its change committed (the server stopped before the item was
-- settled, or its lease ran out) finds its receipt and changes the ticket no second time.
CREATE TABLE inbox_applied (
    receipt TEXT PRIMARY KEY,
    at BIGINT NOT NULL
);
