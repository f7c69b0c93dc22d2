-- The org's shared channel is a channel of any kind, not Slack's: its columns say what they
-- hold (the org's channel's name, a message's id, a thread's id) instead of Slack's words.
ALTER TABLE orgs RENAME COLUMN slack_channel TO channel;
ALTER TABLE chat_messages RENAME COLUMN ts TO message_id;
ALTER TABLE chat_messages RENAME COLUMN thread_ts TO thread;
ALTER TABLE chat_threads RENAME COLUMN thread_ts TO thread;
