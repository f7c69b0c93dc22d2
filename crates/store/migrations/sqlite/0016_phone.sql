-- The P1 phone line: each user's phone number (their caller ID, E.164), each org's phone
-- PIN (its HMAC under the server's PIN key, never the PIN), and which ticket each call
-- opened or paged for (the provider's call id).
CREATE TABLE phone_numbers (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    number TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX phone_numbers_number ON phone_numbers(number);
CREATE TABLE phone_pins (
    org TEXT PRIMARY KEY REFERENCES orgs(slug),
    pin_hash TEXT NOT NULL UNIQUE,
    set_at BIGINT NOT NULL
);
CREATE TABLE phone_calls (
    call_sid TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    caller TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
