-- Failed approvals decay instead of being reset by a success (docs/protocol.md §5): each one
-- adds a decay period to `failures_until`, the time by which every counted failure will have
-- been forgiven, and the count is the whole periods still ahead (see
-- `store::tokens::fail_try`). The counts kept so far carry over, forgiven one a day from now.
ALTER TABLE tokens ADD COLUMN failures_until BIGINT NOT NULL DEFAULT 0;
UPDATE tokens SET failures_until = CAST(strftime('%s', 'now') AS BIGINT) + failed_tries * 86400 WHERE failed_tries > 0;
-- When the newest `failed_approvals` notice about a token happened (§4, "Notices about a
-- token"), for a device that was away.
ALTER TABLE tokens ADD COLUMN failed_approvals_at BIGINT;
