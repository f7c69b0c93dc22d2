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
