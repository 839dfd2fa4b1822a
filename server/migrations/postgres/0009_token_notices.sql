-- When the newest notice of each kind about a token happened (docs/protocol.md §4, "Notices
-- about a token"), so that a device that was away gets it at its next poll or socket log-in.
ALTER TABLE tokens ADD COLUMN wrong_passcodes_at BIGINT;
ALTER TABLE tokens ADD COLUMN authenticator_added_at BIGINT;
