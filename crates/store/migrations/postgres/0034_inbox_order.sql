-- The inbox keeps one key's items in order across a crash: a claim takes no item while an
-- earlier item of the same key (a sender's mail, an alert's signals, a channel's messages) is
-- still leased, as a killed instance's claims stay until their lease ends. These indexes find
-- the leased items at once (there are none at all on an idle or single busy instance between
-- rounds).
CREATE INDEX inbound_mail_leased ON inbound_mail(claimed_until) WHERE state = 'pending';
CREATE INDEX alert_signals_leased ON alert_signals(claimed_until) WHERE state = 'pending';
CREATE INDEX chat_messages_leased ON chat_messages(claimed_until) WHERE state = 'pending';
