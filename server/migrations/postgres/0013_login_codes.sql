-- The sign-in code an approval gives the login page (docs/protocol.md §5, "What the login page
-- gets"): random digits from the server, kept as their SHA-256 hash, which the login's own
-- page may type once, after the approval, to open its session.
ALTER TABLE logins ADD COLUMN login_code TEXT;
