-- A token added from a signed-in session's "Add a push authenticator" page stays unconfirmed
-- after its link is redeemed, until that session confirms the comparison code both screens
-- show (docs/protocol.md §3, "Confirming an enrollment"). `enroll_session` is the stored id of
-- the session that made the link (NULL for an administrator's link, active on redemption);
-- `confirm_code` the six digits that session is shown, kept only while it waits.
ALTER TABLE tokens ADD COLUMN enroll_session TEXT;
ALTER TABLE tokens ADD COLUMN confirm_code TEXT;
-- The sweeper looks for unconfirmed tokens whose link has expired every 30 s.
CREATE INDEX tokens_unconfirmed ON tokens (activation_expires_at) WHERE state = 'unconfirmed';
