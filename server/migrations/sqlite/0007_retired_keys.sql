-- The request and channel keys that restores of a token retired (docs/protocol.md §8), newest
-- first, each with the nonce of the restore that retired it, sealed like `keys_sealed`: a copy
-- that still holds them is told that the token was restored elsewhere, and a restore whose
-- answer was lost can be answered again.
ALTER TABLE tokens ADD COLUMN retired_sealed BLOB;
