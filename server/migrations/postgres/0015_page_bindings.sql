-- The binding of a login page's newest load (docs/protocol.md §5, "Same-browser approvals"):
-- 16 random bytes, base64url, which the page carries and the login's pushes commit to. Not a
-- secret: any script of the page may read it; what counts is that a device reads it only from
-- a document of the login's origin.
ALTER TABLE logins ADD COLUMN binding TEXT;
