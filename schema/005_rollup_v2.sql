-- dmarcq schema, version 5: the query rollup, integer-coded, at two levels.
--
-- Replaces daily_sources (version 3), whose rows carried every text column
-- and made a year-long `sources` scan take 20 s on 10 million records.
-- Texts now live once in three dictionaries; a rollup row is a handful of
-- integers. Two levels answer a window exactly:
--   source_windows  one row per (report window, policy domain, source,
--                   profile, verdict): exact, for the edges of a window;
--   source_months   the same summed per UTC month of the report's begin_ts,
--                   for the whole months inside a window.
-- Both are maintained by the write path in the same transaction as the
-- records (src/store/query_rollup.cpp, summed in memory per batch and
-- UPSERTed at commit), and rebuilt from the base tables by
-- `dmarcq db rebuild-rollups`. This migration leaves them empty: dmarcq
-- rebuilds them right after it (see SqliteStore::migrate).
--
-- verdict packs dmarcq's and the receiver's verdict of the records:
--   bits 0-2   class: 0 aligned, 1 dkim-only, 2 spf-only, 3 forwarded,
--              4 misaligned, 5 impersonation
--   bit  3     DKIM aligned     bit 4  SPF aligned
--   bits 5-7   disposition: 0 absent, 1 none, 2 pass, 3 quarantine,
--              4 reject, 5 unknown
--   bits 8-9   policy_evaluated/dkim: 0 absent, 1 pass, 2 fail, 3 unknown
--   bits 10-11 policy_evaluated/spf, coded the same way
-- reporters is the set of reporters.id that saw the row, " 3 7 ".

DROP TABLE daily_sources;
-- "First seen" (impersonators --new-since) reads rollup_sources.first_end now.
DROP INDEX records_ip;

CREATE TABLE rollup_domains (
  id    INTEGER PRIMARY KEY,
  name  TEXT NOT NULL UNIQUE              -- policy domain (reports.domain)
) STRICT;

CREATE TABLE rollup_sources (
  id         INTEGER PRIMARY KEY,
  source_ip  TEXT NOT NULL UNIQUE,        -- records.source_ip
  ip         BLOB,                        -- records.ip (NULL when not an IP)
  first_end  INTEGER                      -- the earliest end_ts of a report it is in (any domain)
) STRICT;
CREATE INDEX rollup_sources_ip ON rollup_sources(ip);

-- What a source showed besides its address: header_from and the
-- authentication domains (sorted distinct "domain/selector" of its DKIM
-- results, sorted distinct SPF domains, ' '-joined; '' when none).
CREATE TABLE rollup_profiles (
  id              INTEGER PRIMARY KEY,
  header_from     TEXT NOT NULL,
  dkim_auth       TEXT NOT NULL,
  spf_auth        TEXT NOT NULL,
  unaligned_dkim  TEXT NOT NULL,          -- records.unaligned_dkim_domain, '' when none
  unaligned_spf   TEXT NOT NULL,
  UNIQUE (header_from, dkim_auth, spf_auth, unaligned_dkim, unaligned_spf)
) STRICT;

CREATE TABLE source_windows (
  end_ts     INTEGER NOT NULL,
  begin_ts   INTEGER NOT NULL,
  domain     INTEGER NOT NULL,            -- rollup_domains.id
  source     INTEGER NOT NULL,            -- rollup_sources.id
  profile    INTEGER NOT NULL,            -- rollup_profiles.id
  verdict    INTEGER NOT NULL,
  reporters  TEXT NOT NULL,
  messages   INTEGER NOT NULL,            -- sum of records.count
  records    INTEGER NOT NULL,
  PRIMARY KEY (end_ts, begin_ts, domain, source, profile, verdict)
) STRICT, WITHOUT ROWID;

CREATE TABLE source_months (
  month       INTEGER NOT NULL,           -- 12 * year + month - 1 of begin_ts (UTC)
  domain      INTEGER NOT NULL,
  source      INTEGER NOT NULL,
  profile     INTEGER NOT NULL,
  verdict     INTEGER NOT NULL,
  first_seen  INTEGER NOT NULL,           -- min begin_ts
  last_seen   INTEGER NOT NULL,           -- max end_ts
  reporters   TEXT NOT NULL,
  messages    INTEGER NOT NULL,
  records     INTEGER NOT NULL,
  PRIMARY KEY (month, domain, source, profile, verdict)
) STRICT, WITHOUT ROWID;
