-- dmarcq schema, version 3: the rollup the query commands read.
--
-- daily_sources holds one row per (report window, policy domain, source,
-- header_from, verdict, receiver verdict, auth domains): the records of every
-- reporter whose report covers the same window (in practice: the same UTC
-- day) are summed into one row, and the reporters that saw it are kept as a
-- set of reporter ids (" 3 7 "). It is maintained by the write path in the
-- same transaction as the records (UPSERT), and rebuilt from the base tables
-- by `dmarcq db rebuild-rollups` (src/store/query_rollup.cpp: keep the SELECT
-- below and rollup_select_sql() there identical).
--
-- The exact report window (begin_ts, end_ts) is kept rather than a day
-- number, so that queries apply the same overlap rule as `export`
-- (end_ts > since AND begin_ts < until).

CREATE TABLE reporters (
  id        INTEGER PRIMARY KEY,
  org_name  TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE daily_sources (
  end_ts          INTEGER NOT NULL,
  begin_ts        INTEGER NOT NULL,
  domain          TEXT NOT NULL,       -- policy domain
  source_ip       TEXT NOT NULL,       -- canonical text (records.source_ip)
  header_from     TEXT NOT NULL,
  class           TEXT NOT NULL,
  dkim_aligned    INTEGER NOT NULL,
  spf_aligned     INTEGER NOT NULL,
  disposition     TEXT NOT NULL,       -- '' when the receiver did not say
  dkim_evaluated  TEXT NOT NULL,       -- receiver's policy_evaluated, '' when absent
  spf_evaluated   TEXT NOT NULL,
  dkim_auth       TEXT NOT NULL,       -- sorted distinct "domain/selector" of DKIM results, ' '-joined
  spf_auth        TEXT NOT NULL,       -- sorted distinct SPF domains, ' '-joined
  unaligned_dkim  TEXT NOT NULL,       -- records.unaligned_dkim_domain, '' when none
  unaligned_spf   TEXT NOT NULL,
  ip              BLOB,                -- records.ip
  reporters       TEXT NOT NULL,       -- " 3 7 ": reporters.id of every reporter that saw it
  messages        INTEGER NOT NULL,    -- sum of records.count
  records         INTEGER NOT NULL,    -- number of records
  PRIMARY KEY (end_ts, begin_ts, domain, source_ip, header_from, class, dkim_aligned, spf_aligned,
               disposition, dkim_evaluated, spf_evaluated, dkim_auth, spf_auth, unaligned_dkim,
               unaligned_spf)
) STRICT, WITHOUT ROWID;
-- No secondary index: with a WITHOUT ROWID table it would repeat the whole
-- key and tripled the ingest cost. "First seen" (impersonators --new-since)
-- uses records_ip instead.

-- Every distinct report length (end_ts - begin_ts): bounds the end_ts range a
-- window query scans (end_ts < until + max span).
CREATE TABLE report_spans (
  span INTEGER PRIMARY KEY
) STRICT;

INSERT INTO reporters (org_name) SELECT DISTINCT org_name FROM reports ORDER BY org_name;
INSERT INTO report_spans (span) SELECT DISTINCT end_ts - begin_ts FROM reports;
INSERT INTO daily_sources
SELECT rp.end_ts, rp.begin_ts, rp.domain, r.source_ip, r.header_from, r.class, r.dkim_aligned,
       r.spf_aligned, coalesce(r.disposition, ''), coalesce(r.dkim_evaluated, ''),
       coalesce(r.spf_evaluated, ''),
       coalesce((SELECT group_concat(e, ' ') FROM (SELECT DISTINCT d.domain || coalesce('/' || d.selector, '') AS e
                 FROM dkim_results d WHERE d.record = r.id ORDER BY e)), ''),
       coalesce((SELECT group_concat(e, ' ') FROM (SELECT DISTINCT s.domain AS e
                 FROM spf_results s WHERE s.record = r.id AND s.domain <> '' ORDER BY e)), ''),
       coalesce(r.unaligned_dkim_domain, ''), coalesce(r.unaligned_spf_domain, ''),
       min(r.ip), ' ' || replace(group_concat(DISTINCT rr.id), ',', ' ') || ' ',
       sum(r.count), count(*)
FROM records r JOIN reports rp ON rp.id = r.report JOIN reporters rr ON rr.org_name = rp.org_name
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15;

-- The query window on reports (summary, reports): end_ts > since.
CREATE INDEX reports_end ON reports(end_ts);
