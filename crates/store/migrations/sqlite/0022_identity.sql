-- Identity rules. Invitations: a customer org admin invites an address into their org; the
-- account is made only when the invitee sets a password through the mailed link (the link
-- signs the id and expiry with the server's key, so nothing secret is stored; used once).
-- An invitation to an address that staff or another org's user holds is recorded the same
-- way, so the admin's answer tells nothing, but no link to it is ever made.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(slug),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    invited_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NULL
);
CREATE INDEX invitations_address ON invitations(org, LOWER(email));

-- A phone number waiting for its user to confirm it: the code sent to it by SMS, kept only
-- as its HMAC under a server key, until it expires or too many wrong codes were tried. One
-- per user; the number is in force (phone_numbers) only once the code came back.
CREATE TABLE phone_confirmations (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    number TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL
);
