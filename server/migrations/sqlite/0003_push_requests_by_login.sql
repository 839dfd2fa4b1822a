-- A login's requests are looked up by login at every outcome (cancelling the person's other
-- devices' copies) and at expiry; without an index each lookup read the whole table, and a
-- server slowed down as its history grew.
CREATE INDEX push_requests_login ON push_requests (login_id, state);
