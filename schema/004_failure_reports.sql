-- dmarcq schema, version 4: failure (forensic) reports, RFC 6591 / RFC 9991.
-- Lists are stored '\n'-joined. Failure reports carry personal data: the
-- original body is stored only with `ingest --keep-bodies`, and
-- `ingest --redact` replaces address local parts with a hash.

CREATE TABLE failure_reports (
  id                       INTEGER PRIMARY KEY,
  sha256                   TEXT NOT NULL UNIQUE,   -- of the feedback part + original headers (dedup)
  machine_readable         INTEGER NOT NULL,       -- 0: recovered from the human-readable text
  feedback_type TEXT, feedback_type_raw TEXT,
  user_agent               TEXT,
  version                  TEXT,
  original_envelope_id     TEXT,
  original_mail_from       TEXT,
  original_rcpt_to         TEXT,
  arrival_date             INTEGER,                -- UTC epoch
  arrival_date_text        TEXT,
  reporting_mta            TEXT,
  source_ip                TEXT,                   -- canonical when valid
  ip                       BLOB,                   -- 16 bytes, as records.ip; NULL when not an IP
  source_hostname          TEXT,
  source_ip_text           TEXT,                   -- the Source-IP field as written
  source_port              INTEGER,
  incidents                INTEGER,
  authentication_results   TEXT,
  reported_domain          TEXT,                   -- the first Reported-Domain, normalized
  reported_domains         TEXT,
  reported_uris            TEXT,
  delivery_result TEXT, delivery_result_raw TEXT,
  auth_failures            TEXT,                   -- canonical values (unknown ones verbatim)
  dkim_domains             TEXT,
  dkim_identity            TEXT,
  dkim_selector            TEXT,
  dkim_selector_dns        TEXT,
  dkim_canonicalized_header TEXT,
  dkim_canonicalized_body  TEXT,
  spf_dns                  TEXT,
  identity_alignment       TEXT,
  extra_fields             TEXT,                   -- "Name: value" lines
  feedback_text            TEXT,                   -- the feedback part as received
  human_readable           TEXT,
  original_source          TEXT,
  original_headers         TEXT,
  original_from            TEXT,
  original_to              TEXT,
  original_subject         TEXT,
  original_date            TEXT,
  original_date_epoch      INTEGER,
  original_message_id      TEXT,
  original_authentication_results TEXT,
  original_dkim_signatures TEXT,                   -- "d=DOMAIN s=SELECTOR" lines
  original_body            BLOB,                   -- only with --keep-bodies
  mail_from                TEXT,
  mail_subject             TEXT,
  mail_date                TEXT,
  mail_message_id          TEXT,
  source_file              TEXT NOT NULL,
  diagnostics              TEXT,
  ingested_at              INTEGER NOT NULL
) STRICT;
CREATE INDEX failure_reports_ip ON failure_reports(ip);
CREATE INDEX failure_reports_domain_time ON failure_reports(reported_domain, arrival_date);
