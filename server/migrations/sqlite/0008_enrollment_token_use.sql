-- Enrollment tokens in the console (issue 17): how many agent
-- registrations presented a token, and when the last one did, so that an
-- administrator can tell used tokens from unused ones.
ALTER TABLE enrollment_tokens ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE enrollment_tokens ADD COLUMN last_used_at INTEGER;
