-- Feedback on any page: was it useful, and an optional problem report.
-- Anyone may send it, signed in or not; nothing links it to an account or
-- an address, and the date is the day only.
CREATE TABLE feedback (
	id {{ID}},
	page TEXT NOT NULL,
	useful BOOLEAN,
	problem TEXT NOT NULL DEFAULT '',
	lang TEXT NOT NULL DEFAULT '',
	received_on BIGINT NOT NULL
);
CREATE INDEX feedback_received ON feedback (received_on);
CREATE INDEX feedback_page ON feedback (page, received_on);
