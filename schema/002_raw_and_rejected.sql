-- dmarcq schema, version 2: keep what was received.

-- Each report's payload as received (the zip / gzip / XML bytes, before
-- unpacking), deduplicated by hash, so that `dmarcq reprocess` can re-parse
-- everything after a parser fix without the mailbox.
CREATE TABLE raw_payloads (
  id          INTEGER PRIMARY KEY,
  sha256      TEXT NOT NULL UNIQUE,
  bytes       BLOB NOT NULL,
  received_at INTEGER NOT NULL
) STRICT;

ALTER TABLE reports ADD COLUMN raw_payload INTEGER REFERENCES raw_payloads(id);
CREATE INDEX reports_raw_payload ON reports(raw_payload);

-- Inputs (messages, stdin) that carried no report or a broken one: kept
-- whole, with the reason, so that nothing delivered is ever lost.
CREATE TABLE rejected (
  id            INTEGER PRIMARY KEY,
  sha256        TEXT NOT NULL UNIQUE,
  source        TEXT NOT NULL,         -- file path, Maildir path, or '-' for stdin
  message_id    TEXT,
  reason_kind   TEXT NOT NULL,         -- not a report | malformed | limit exceeded | ...
  reason        TEXT NOT NULL,         -- the one-line error
  bytes         BLOB NOT NULL,
  size          INTEGER NOT NULL,
  received_at   INTEGER NOT NULL,
  last_tried_at INTEGER NOT NULL,
  tries         INTEGER NOT NULL DEFAULT 1
) STRICT;
