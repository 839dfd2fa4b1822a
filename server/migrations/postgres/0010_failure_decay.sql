-- Failed approvals decay instead of being reset by a success (docs/protocol.md §5): the
-- count `failed_tries` loses one failure per whole decay period since `last_failed_at`, the
-- time of the last counted one (see `store::tokens::fail_try`). Both are independent of the
-- decay in force, so a new `--failure-decay` changes the pace only. The counts kept so far
-- carry over as they are, their decay starting now.
ALTER TABLE tokens ADD COLUMN last_failed_at BIGINT NOT NULL DEFAULT 0;
UPDATE tokens SET last_failed_at = CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) WHERE failed_tries > 0;
-- When the newest `failed_approvals` notice about a token happened (§4, "Notices about a
-- token"), for a device that was away.
ALTER TABLE tokens ADD COLUMN failed_approvals_at BIGINT;
