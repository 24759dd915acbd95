// The query layer's row source: the rollup (daily_sources) for a window, or
// the base tables when a --reporter filter needs per-report rows.
#include <filesystem>

#include <fmt/format.h>

#include "query_rollup.hpp"
#include "query_store.hpp"

namespace dmarcq {

void ClassCounts::add(std::string_view traffic_class, std::int64_t messages) {
  if (traffic_class == "aligned") aligned += messages;
  else if (traffic_class == "dkim-only") dkim_only += messages;
  else if (traffic_class == "spf-only") spf_only += messages;
  else if (traffic_class == "forwarded") forwarded += messages;
  else if (traffic_class == "misaligned") misaligned += messages;
  else impersonation += messages;
}

std::int64_t ClassCounts::total() const {
  return aligned + dkim_only + spf_only + forwarded + misaligned + impersonation;
}

void DispositionCounts::add(std::string_view disposition, std::int64_t messages) {
  if (disposition == "none") none += messages;
  else if (disposition == "quarantine") quarantine += messages;
  else if (disposition == "reject") reject += messages;
  else other += messages;
}

std::unique_ptr<Queries> open_sqlite_queries(const StoreOptions& options) {
  return std::make_unique<store::SqliteQueries>(options);
}

std::int64_t rebuild_sqlite_rollups(const StoreOptions& options) {
  StoreOptions writable = options;
  writable.read_only = false;
  if (!std::filesystem::exists(options.path))
    throw Failure(ErrorKind::io, fmt::format("no database at {}; run `dmarcq ingest` first", options.path));
  { auto migrated = open_sqlite_store(writable); }  // creates / migrates, checks the version
  store::Database db(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
  return store::rebuild_rollups(db);
}

namespace store {

bool ScanRow::receiver_disagrees() const {
  if (dkim_evaluated.empty() && spf_evaluated.empty()) return false;
  const bool receiver_pass = dkim_evaluated == "pass" || spf_evaluated == "pass";
  return receiver_pass != dmarc_pass();
}

std::string describe_policy(std::string_view p, std::string_view sp, std::string_view adkim,
                            std::string_view aspf, std::optional<std::int64_t> pct) {
  std::string text;
  auto add = [&text](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    if (!text.empty()) text += ' ';
    text += name;
    text += '=';
    text += value;
  };
  add("p", p);
  add("sp", sp);
  add("adkim", adkim == "strict" ? "s" : adkim == "relaxed" ? "r" : adkim);
  add("aspf", aspf == "strict" ? "s" : aspf == "relaxed" ? "r" : aspf);
  if (pct) add("pct", std::to_string(*pct));
  return text;
}

SqliteQueries::SqliteQueries(const StoreOptions& options) : options_(options) {
  StoreOptions read_only = options;
  read_only.read_only = true;
  // Checks existence ("no database at ...") and the schema version.
  { auto checked = open_sqlite_store(read_only); }
  db_ = Database(options.path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  sqlite3_busy_timeout(db_.get(), options.busy_timeout_ms);
}

const std::unordered_map<std::int64_t, std::string>& SqliteQueries::reporter_names() {
  if (!reporter_names_loaded_) {
    Statement s = db_.prepare("SELECT id, org_name FROM reporters");
    while (s.step()) reporter_names_.emplace(s.column_int(0), s.column_text(1));
    reporter_names_loaded_ = true;
  }
  return reporter_names_;
}

std::string SqliteQueries::report_conditions(const QueryFilter& filter, std::string_view alias,
                                             int& next) const {
  std::string sql;
  if (!filter.domains.empty()) {
    sql += fmt::format(" AND {}.domain IN (", alias);
    for (std::size_t i = 0; i < filter.domains.size(); ++i)
      sql += fmt::format("{}?{}", i ? ", " : "", next++);
    sql += ")";
  }
  if (filter.since) sql += fmt::format(" AND {}.end_ts > ?{}", alias, next++);
  if (filter.until) sql += fmt::format(" AND {}.begin_ts < ?{}", alias, next++);
  if (filter.reporter) sql += fmt::format(" AND {}.org_name = ?{}", alias, next++);
  return sql;
}

void SqliteQueries::bind_report_conditions(Statement& statement, const QueryFilter& filter,
                                           int& next) const {
  for (const auto& domain : filter.domains) statement.bind(next++, std::string_view(domain));
  if (filter.since) statement.bind(next++, *filter.since);
  if (filter.until) statement.bind(next++, *filter.until);
  if (filter.reporter) statement.bind(next++, std::string_view(*filter.reporter));
}

namespace {

std::string_view text_view(const Statement& s, int index) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), index));
  return text ? std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(s.get(), index)))
              : std::string_view();
}

}  // namespace

void SqliteQueries::scan(const QueryFilter& filter, const std::vector<std::string_view>& classes,
                         bool details, const std::function<void(const ScanRow&)>& visit) {
  std::string sql;
  int next = 1;
  std::int64_t max_span = 0;
  const bool rollup = !filter.reporter;
  if (rollup) {
    if (filter.until) {
      Statement span = db_.prepare("SELECT coalesce(max(span), 0) FROM report_spans");
      span.step();
      max_span = span.column_int(0);
    }
    sql =
        "SELECT begin_ts, end_ts, domain, source_ip, header_from, class, dkim_aligned, spf_aligned, "
        "disposition, dkim_evaluated, spf_evaluated, dkim_auth, spf_auth, unaligned_dkim, "
        "unaligned_spf, ip, reporters, messages, records FROM daily_sources rp WHERE 1" +
        report_conditions(filter, "rp", next);
    // end_ts leads the key: bound the scan on both sides.
    if (filter.until) sql += fmt::format(" AND rp.end_ts < ?{}", next++);
  } else {
    sql =
        "SELECT rp.begin_ts, rp.end_ts, rp.domain, r.source_ip, r.header_from, r.class, "
        "r.dkim_aligned, r.spf_aligned, coalesce(r.disposition, ''), coalesce(r.dkim_evaluated, ''), "
        "coalesce(r.spf_evaluated, ''), "
        "coalesce((SELECT group_concat(d.domain || coalesce('/' || d.selector, ''), ' ') "
        "FROM dkim_results d WHERE d.record = r.id), ''), "
        "coalesce((SELECT group_concat(s.domain, ' ') FROM spf_results s "
        "WHERE s.record = r.id AND s.domain <> ''), ''), "
        "coalesce(r.unaligned_dkim_domain, ''), coalesce(r.unaligned_spf_domain, ''), r.ip, "
        "' ' || coalesce((SELECT id FROM reporters WHERE org_name = rp.org_name), 0) || ' ', "
        "r.count, 1 FROM reports rp JOIN records r ON r.report = rp.id WHERE 1" +
        report_conditions(filter, "rp", next);
  }
  const std::string ip_column = rollup ? "rp.ip" : "r.ip";
  if (!classes.empty()) {
    sql += fmt::format(" AND {} IN (", rollup ? "rp.class" : "r.class");
    for (std::size_t i = 0; i < classes.size(); ++i) sql += fmt::format("{}'{}'", i ? ", " : "", classes[i]);
    sql += ")";
  }
  if (filter.ip) sql += fmt::format(" AND {} BETWEEN ?{} AND ?{}", ip_column, next, next + 1);

  Statement s = db_.prepare(sql);
  int bind = 1;
  bind_report_conditions(s, filter, bind);
  if (rollup && filter.until) s.bind(bind++, *filter.until + max_span + 1);
  if (filter.ip) {
    s.bind_blob(bind, filter.ip->first.bytes.data(), filter.ip->first.bytes.size());
    s.bind_blob(bind + 1, filter.ip->last.bytes.data(), filter.ip->last.bytes.size());
  }
  ScanRow row;
  while (s.step()) {
    row.begin = s.column_int(0);
    row.end = s.column_int(1);
    row.domain = text_view(s, 2);
    row.traffic_class = text_view(s, 5);
    row.dkim_aligned = s.column_int(6) != 0;
    row.spf_aligned = s.column_int(7) != 0;
    row.disposition = text_view(s, 8);
    row.dkim_evaluated = text_view(s, 9);
    row.spf_evaluated = text_view(s, 10);
    if (details) {
      row.source_ip = text_view(s, 3);
      row.header_from = text_view(s, 4);
      row.dkim_auth = text_view(s, 11);
      row.spf_auth = text_view(s, 12);
      row.unaligned_dkim = text_view(s, 13);
      row.unaligned_spf = text_view(s, 14);
      row.ip = s.column_blob(15);
      row.reporters = text_view(s, 16);
    }
    row.messages = s.column_int(17);
    row.records = s.column_int(18);
    visit(row);
  }
}

}  // namespace store
}  // namespace dmarcq
