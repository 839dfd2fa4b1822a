-- Wrong typed passcodes of a person in a row, and the time of the last one: past a few free
-- ones, typed passcodes wait a time that doubles with each further failure (see
-- `store::users::claim_passcode_try`), instead of locking the person's tokens.
ALTER TABLE users ADD COLUMN passcode_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN passcode_failed_at BIGINT NOT NULL DEFAULT 0;
