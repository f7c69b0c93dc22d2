-- Mail authentication: the SMTP client's address and EHLO name as the SMTP door saw them
-- (what SPF checks), and what SPF, DKIM, DMARC and ARC proved about the sender (JSON),
-- written when the message is processed.
ALTER TABLE inbound_mail ADD COLUMN peer TEXT;
ALTER TABLE inbound_mail ADD COLUMN helo TEXT;
ALTER TABLE inbound_mail ADD COLUMN auth TEXT;
-- The domains whose proven senders an org that accepts strangers' mail takes in as members
-- (JSON list); nobody else's.
ALTER TABLE orgs ADD COLUMN mail_accept_domains TEXT NOT NULL DEFAULT '[]';
