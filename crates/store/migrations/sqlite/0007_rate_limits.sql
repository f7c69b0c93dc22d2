-- Rate-limit windows shared by every instance on the database: attempts per key (login by
-- address and by client, token creation by user, customer page by ticket) in a fixed window.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    attempts BIGINT NOT NULL
);
CREATE INDEX rate_limits_window ON rate_limits(window_start);
