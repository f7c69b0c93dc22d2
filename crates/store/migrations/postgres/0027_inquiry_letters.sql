-- A "Contact us" inquiry's answer is a letter in the same outbox as the quarterly reviews
-- and welcome packets: written with the answer, in one transaction, and sent by the postman.
-- Such a letter is to someone of no org, so `org` may be empty; `inquiry` names the
-- inquiry it answers.
ALTER TABLE org_letters ALTER COLUMN org DROP NOT NULL;
ALTER TABLE org_letters ADD COLUMN inquiry TEXT REFERENCES inquiries(id);
