-- Server-wide settings, e.g. the key that signs one-click acknowledgement links (shared by
-- every instance on the database, kept across restarts).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
