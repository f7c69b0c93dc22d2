-- Mail authentication: the SMTP client's address and EHLO name as the SMTP door saw them
-- (what SPF checks), and what SPF, DKIM, DMARC and ARC proved about the sender (JSON),
-- written when the message is processed.
ALTER TABLE inbound_mail ADD COLUMN peer TEXT;
ALTER TABLE inbound_mail ADD COLUMN helo TEXT;
ALTER TABLE inbound_mail ADD COLUMN auth TEXT;
