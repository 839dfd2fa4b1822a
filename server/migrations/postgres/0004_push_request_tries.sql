-- A request stays open after a wrong PIN, so that the person can type it again. `tried_at` is
-- the `answeredAt` of its last wrong-PIN answer: a later answer must be newer, so that a
-- captured wrong answer cannot be sent again to count more failed tries (docs/protocol.md §5).
ALTER TABLE push_requests ADD COLUMN tried_at BIGINT;
