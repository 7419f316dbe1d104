-- hotline store, SQLite: times are INTEGER microseconds since the Unix epoch
-- (NULL = not yet), JSON is TEXT, booleans are 0/1. STRICT tables reject a
-- value of the wrong type instead of storing it.

CREATE TABLE calls (
  id              TEXT PRIMARY KEY,            -- SIP Call-ID
  instance        TEXT NOT NULL DEFAULT '',
  caller          TEXT NOT NULL DEFAULT '',
  caller_hash     TEXT NOT NULL DEFAULT '',
  called          TEXT NOT NULL DEFAULT '',
  script          TEXT NOT NULL DEFAULT '',
  script_version  TEXT NOT NULL DEFAULT '',
  language        TEXT NOT NULL DEFAULT '',
  started_at      INTEGER NOT NULL,
  answered_at     INTEGER,
  ended_at        INTEGER,                     -- NULL while the call is open
  outcome         TEXT NOT NULL DEFAULT '',
  end_reason      TEXT NOT NULL DEFAULT '',
  grade           TEXT NOT NULL DEFAULT '',
  tags            TEXT NOT NULL DEFAULT '[]',
  path            TEXT NOT NULL DEFAULT '[]',
  node            TEXT NOT NULL DEFAULT '',
  vars            TEXT NOT NULL DEFAULT '{}',
  transfer_target TEXT NOT NULL DEFAULT '',
  transfer_mode   TEXT NOT NULL DEFAULT '',
  transfer_result TEXT NOT NULL DEFAULT '',
  transfer_code   INTEGER NOT NULL DEFAULT 0,
  recording       TEXT NOT NULL DEFAULT '',
  turns           INTEGER NOT NULL DEFAULT 0,
  no_match        INTEGER NOT NULL DEFAULT 0,
  no_input        INTEGER NOT NULL DEFAULT 0,
  keypad          INTEGER NOT NULL DEFAULT 0
) STRICT;

-- ListCalls: newest first with keyset pagination on (started_at, id).
CREATE INDEX calls_started ON calls (started_at, id);
CREATE INDEX calls_outcome ON calls (outcome, started_at);
CREATE INDEX calls_caller ON calls (caller, started_at);
CREATE INDEX calls_called ON calls (called, started_at);
CREATE INDEX calls_caller_hash ON calls (caller_hash, started_at);
-- Purge walks ended calls by end time; CloseInterrupted the open ones.
CREATE INDEX calls_ended ON calls (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX calls_open ON calls (instance) WHERE ended_at IS NULL;

-- WITHOUT ROWID keeps a call's turns together in primary-key order.
CREATE TABLE turns (
  call_id    TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  at         INTEGER,
  offset_us  INTEGER NOT NULL DEFAULT 0,
  speaker    TEXT NOT NULL DEFAULT '',
  text       TEXT NOT NULL DEFAULT '',
  input      TEXT NOT NULL DEFAULT '',
  intent     TEXT NOT NULL DEFAULT '',
  tier       TEXT NOT NULL DEFAULT '',
  score      REAL NOT NULL DEFAULT 0,
  confidence REAL NOT NULL DEFAULT -1,
  outcome    TEXT NOT NULL DEFAULT '',
  node       TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (call_id, seq)
) STRICT, WITHOUT ROWID;

-- AUTOINCREMENT: a deleted group's ID is never reused, so a link to it in
-- the admin UI cannot come to show another group.
CREATE TABLE question_groups (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  text        TEXT NOT NULL DEFAULT '',
  norm        TEXT NOT NULL DEFAULT '',
  language    TEXT NOT NULL DEFAULT '',
  count       INTEGER NOT NULL DEFAULT 0,
  first_at    INTEGER,
  last_at     INTEGER,
  status      TEXT NOT NULL DEFAULT 'open',
  intent      TEXT NOT NULL DEFAULT '',
  resolution  TEXT NOT NULL DEFAULT '',
  resolved_at INTEGER,
  resolved_by TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX question_groups_recent ON question_groups (status, language, last_at);
CREATE INDEX question_groups_rank ON question_groups (status, count, last_at);

CREATE TABLE questions (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  group_id INTEGER NOT NULL REFERENCES question_groups (id) ON DELETE CASCADE,
  call_id  TEXT REFERENCES calls (id) ON DELETE CASCADE,
  node     TEXT NOT NULL DEFAULT '',
  text     TEXT NOT NULL DEFAULT '',
  norm     TEXT NOT NULL DEFAULT '',
  language TEXT NOT NULL DEFAULT '',
  at       INTEGER,
  audio    TEXT NOT NULL DEFAULT '',
  intent   TEXT NOT NULL DEFAULT '',
  score    REAL NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX questions_group ON questions (group_id, at);
CREATE INDEX questions_call ON questions (call_id);
CREATE INDEX questions_at ON questions (at);
