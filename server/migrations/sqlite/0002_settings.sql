-- Server-wide secrets and settings, such as the VAPID key for Web Push (sealed).
CREATE TABLE server_settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
