-- Why a request ended without the answer of the device holding it (answered elsewhere, replaced,
-- expired, token removed), so that a device polling later is told, with the same reason its
-- socket would have given (docs/protocol.md §4, "The end of a request"). NULL for a request
-- still pending or ended by its own device's answer.
ALTER TABLE push_requests ADD COLUMN ended_why TEXT;
