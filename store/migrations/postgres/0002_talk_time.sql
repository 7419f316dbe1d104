-- The caller's talk time (call.Config.TalkTime): how long the caller spoke,
-- in milliseconds, and in how many stretches. 0 for calls before this
-- migration and calls measured with talk time off.

ALTER TABLE calls
  ADD COLUMN talk_ms     bigint  NOT NULL DEFAULT 0,
  ADD COLUMN talk_spurts integer NOT NULL DEFAULT 0;
