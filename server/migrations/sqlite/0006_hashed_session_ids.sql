-- Sessions and logins are now stored under the SHA-256 hash of the id in the browser's cookie,
-- so that one who reads the database cannot use what is stored as a cookie. Sessions stored as
-- sent before are signed out; logins stored so (ten minutes at most) can no longer be found and
-- simply expire.
DELETE FROM sessions;
