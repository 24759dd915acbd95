-- dmarcq schema, version 1: aggregate reports.
-- Enumerated columns hold the canonical lowercase value, 'unknown' for a value
-- dmarcq does not recognise (the verbatim text is then in the *_raw column),
-- or NULL when the report did not say. A *_raw column keeps the verbatim text
-- of an unknown value or of an alias (SPF "hardfail" is stored as fail).

CREATE TABLE reports (
  id                  INTEGER PRIMARY KEY,
  org_name            TEXT NOT NULL,
  email               TEXT,
  extra_contact_info  TEXT,
  report_id           TEXT NOT NULL,
  begin_ts            INTEGER NOT NULL,   -- UTC epoch seconds
  end_ts              INTEGER NOT NULL,
  domain              TEXT NOT NULL,      -- policy_published/domain, normalized
  adkim TEXT, adkim_raw TEXT,
  aspf  TEXT, aspf_raw  TEXT,
  p     TEXT, p_raw     TEXT,
  sp    TEXT, sp_raw    TEXT,
  np    TEXT, np_raw    TEXT,
  pct                 INTEGER,
  fo                  TEXT,
  testing TEXT, testing_raw TEXT,
  discovery_method TEXT, discovery_method_raw TEXT,
  psd                 TEXT,
  t                   TEXT,
  xml_namespace       TEXT NOT NULL DEFAULT '',
  version             TEXT,
  generator           TEXT,
  errors              TEXT,               -- report_metadata/error lines, '\n'-joined
  record_count        INTEGER NOT NULL,
  message_count       INTEGER NOT NULL,   -- sum of record counts
  payload_sha256      TEXT NOT NULL,      -- of the XML after unpacking
  content_sha256      TEXT NOT NULL,      -- of the normalized content (conflict check)
  source_file         TEXT NOT NULL,
  source_member       TEXT NOT NULL DEFAULT '',
  container           TEXT NOT NULL DEFAULT '',
  message_id          TEXT,
  mail_from           TEXT,
  mail_date           TEXT,
  mail_subject        TEXT,
  attachment_name     TEXT,
  ingested_at         INTEGER NOT NULL
) STRICT;

-- The dedup key (see README "Deduplication").
CREATE UNIQUE INDEX reports_key ON reports(org_name, report_id, domain, begin_ts, end_ts);
CREATE UNIQUE INDEX reports_payload ON reports(payload_sha256);
CREATE INDEX reports_domain_time ON reports(domain, begin_ts);

CREATE TABLE records (
  id                  INTEGER PRIMARY KEY,
  report              INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
  source_ip           TEXT NOT NULL,      -- canonical text; verbatim when not an IP
  ip                  BLOB,               -- 16 bytes, IPv4 as ::ffff:a.b.c.d; NULL when not an IP
  count               INTEGER NOT NULL,
  disposition TEXT, disposition_raw TEXT,
  dkim_evaluated TEXT, dkim_evaluated_raw TEXT,   -- policy_evaluated/dkim
  spf_evaluated  TEXT, spf_evaluated_raw  TEXT,   -- policy_evaluated/spf
  header_from         TEXT NOT NULL,
  envelope_from       TEXT,
  envelope_to         TEXT,
  -- dmarcq's own verdict (README "Alignment").
  dkim_aligned        INTEGER NOT NULL,
  spf_aligned         INTEGER NOT NULL,
  dmarc_pass          INTEGER NOT NULL,
  class               TEXT NOT NULL,      -- aligned|dkim-only|spf-only|forwarded|misaligned|impersonation
  unaligned_dkim_domain TEXT,             -- a DKIM pass for a domain not aligned with header_from
  unaligned_spf_domain  TEXT
) STRICT;
CREATE INDEX records_report ON records(report);
CREATE INDEX records_ip ON records(ip);

CREATE TABLE dkim_results (
  record      INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  domain      TEXT NOT NULL,
  selector    TEXT,
  result TEXT, result_raw TEXT,
  human_result TEXT,
  PRIMARY KEY (record, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE spf_results (
  record      INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  domain      TEXT NOT NULL,
  scope TEXT, scope_raw TEXT,
  result TEXT, result_raw TEXT,
  human_result TEXT,
  PRIMARY KEY (record, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE reasons (
  record      INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  type TEXT, type_raw TEXT,
  comment     TEXT,
  PRIMARY KEY (record, seq)
) STRICT, WITHOUT ROWID;

-- A report whose dedup key matches a stored one but whose content differs.
CREATE TABLE conflicts (
  id              INTEGER PRIMARY KEY,
  report          INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
  payload_sha256  TEXT NOT NULL UNIQUE,
  source_file     TEXT NOT NULL,
  source_member   TEXT NOT NULL DEFAULT '',
  record_count    INTEGER NOT NULL,
  message_count   INTEGER NOT NULL,
  payload         BLOB NOT NULL,          -- the XML as received, for inspection
  detected_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX conflicts_report ON conflicts(report);
