-- How many codes were compared with a login's sign-in code (docs/protocol.md §5, "What the
-- login page gets"): each is counted before it is compared, in one conditional statement, and
-- after three that were wrong the code is cleared and the login is over.
ALTER TABLE logins ADD COLUMN login_code_tries INTEGER NOT NULL DEFAULT 0;
-- From this version on `login_code` holds an HMAC-SHA256 of the code under a key derived from
-- the server key, bound to the login (`signin::login_code_mac`), no longer its SHA-256: codes
-- issued before no longer match, and their logins expire within minutes.
