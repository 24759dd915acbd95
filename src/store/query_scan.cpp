// The query layer's row source: the rollup (daily_sources) for a window, or
// the base tables when a --reporter filter needs per-report rows.
#include <algorithm>
#include <filesystem>
#include <limits>

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
  // Read pages straight from the page cache instead of copying each one:
  // a year-long scan reads hundreds of MB. (SQLite caps it at its
  // compile-time maximum, 2 GB in Debian.)
  db_.exec("PRAGMA mmap_size = 4294967296");
}

const std::unordered_map<std::int64_t, std::string>& SqliteQueries::reporter_names() {
  return load_names("SELECT id, org_name FROM reporters", reporter_names_, reporter_names_loaded_);
}

const std::unordered_map<std::int64_t, std::string>& SqliteQueries::load_names(
    std::string_view sql, std::unordered_map<std::int64_t, std::string>& names, bool& loaded) {
  if (!loaded) {
    Statement s = db_.prepare(sql);
    while (s.step()) names.emplace(s.column_int(0), s.column_text(1));
    loaded = true;
  }
  return names;
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

TrafficClass class_from_text(std::string_view text) {
  for (const TrafficClass c : {TrafficClass::aligned, TrafficClass::dkim_only, TrafficClass::spf_only,
                               TrafficClass::forwarded, TrafficClass::misaligned})
    if (text == to_string(c)) return c;
  return TrafficClass::impersonation;
}

std::string id_list(const std::vector<std::int64_t>& ids) {
  std::string list;
  for (const std::int64_t id : ids) list += fmt::format("{}{}", list.empty() ? "" : ", ", id);
  return list;
}

}  // namespace

const std::unordered_map<std::int64_t, std::string>& SqliteQueries::domain_names() {
  return load_names("SELECT id, name FROM rollup_domains", domain_names_, domain_names_loaded_);
}

std::optional<std::vector<std::int64_t>> SqliteQueries::domain_ids(const QueryFilter& filter) {
  if (filter.domains.empty()) return std::nullopt;
  std::vector<std::int64_t> ids;
  for (const auto& [id, name] : domain_names())
    if (std::find(filter.domains.begin(), filter.domains.end(), name) != filter.domains.end()) ids.push_back(id);
  return ids;
}

namespace {

// ' '-separated words, sorted, without repeats.
void add_words(std::vector<std::string>& into, std::string_view words) {
  while (!words.empty()) {
    const auto space = words.find(' ');
    const std::string_view word = words.substr(0, space);
    if (!word.empty() && std::find(into.begin(), into.end(), word) == into.end()) into.emplace_back(word);
    if (space == std::string_view::npos) break;
    words.remove_prefix(space + 1);
  }
  std::sort(into.begin(), into.end());
}

}  // namespace

const Profile& SqliteQueries::profile(std::int64_t id) {
  if (const auto it = profiles_.find(id); it != profiles_.end()) return it->second;
  Statement s = db_.prepare(
      "SELECT header_from, dkim_auth, spf_auth, unaligned_dkim, unaligned_spf FROM rollup_profiles WHERE id = ?1");
  s.bind(1, id);
  Profile p;
  if (s.step()) {
    add_words(p.header_from, s.column_text(0));
    add_words(p.dkim_domains, s.column_text(1));
    add_words(p.spf_domains, s.column_text(2));
    add_words(p.unaligned_domains, s.column_text(3));
    add_words(p.unaligned_domains, s.column_text(4));
  }
  return profiles_.emplace(id, std::move(p)).first->second;
}

void SqliteQueries::sources_of(const std::vector<std::int64_t>& ids,
                               const std::function<void(std::int64_t id, std::string_view text,
                                                        const std::optional<IpAddress>& address)>& found) {
  auto report = [&found](const Statement& s) {
    std::optional<IpAddress> address;
    const std::string_view key = s.column_blob(2);
    if (key.size() == 16) {
      IpAddress ip;
      std::copy(key.begin(), key.end(), ip.bytes.begin());
      address = ip;
    }
    found(s.column_int(0), s.column_blob(1), address);  // blob: the text's bytes, not copied
  };
  Statement count = db_.prepare("SELECT coalesce(max(id), 0) FROM rollup_sources");
  count.step();
  if (!few_sources(ids.size(), count.column_int(0))) {
    // Many of them: one scan beats a lookup each.
    std::vector<bool> wanted;
    for (const std::int64_t id : ids) {
      if (id < 0) continue;
      if (static_cast<std::size_t>(id) >= wanted.size()) wanted.resize(static_cast<std::size_t>(id) + 1);
      wanted[static_cast<std::size_t>(id)] = true;
    }
    Statement s = db_.prepare("SELECT id, source_ip, ip FROM rollup_sources");
    while (s.step()) {
      const std::int64_t id = s.column_int(0);
      if (id >= 0 && static_cast<std::size_t>(id) < wanted.size() && wanted[static_cast<std::size_t>(id)]) report(s);
    }
  } else {
    Statement s = db_.prepare("SELECT id, source_ip, ip FROM rollup_sources WHERE id = ?1");
    for (const std::int64_t id : ids) {
      s.bind(1, id);
      if (s.step()) report(s);
      s.reset();
    }
  }
}

std::optional<std::vector<bool>> SqliteQueries::sources_in_range(const QueryFilter& filter) {
  if (!filter.ip) return std::nullopt;
  std::vector<bool> in_range;
  Statement s = db_.prepare("SELECT id FROM rollup_sources WHERE ip BETWEEN ?1 AND ?2");
  s.bind_blob(1, filter.ip->first.bytes.data(), 16).bind_blob(2, filter.ip->last.bytes.data(), 16);
  while (s.step()) {
    const std::int64_t id = s.column_int(0);
    if (id < 0) continue;
    if (static_cast<std::size_t>(id) >= in_range.size()) in_range.resize(static_cast<std::size_t>(id) + 1);
    in_range[static_cast<std::size_t>(id)] = true;
  }
  return in_range;
}

std::pair<std::int64_t, std::int64_t> SqliteQueries::report_spans() {
  Statement s = db_.prepare("SELECT coalesce(min(span), 0), coalesce(max(span), 0) FROM report_spans");
  s.step();
  return {s.column_int(0), s.column_int(1)};
}

void SqliteQueries::scan_base_tables(const QueryFilter& filter, const std::function<void(const ScanRow&)>& visit) {
  // Per record (the rollup cannot split by reporter), with the rollup's ids.
  int next = 1;
  std::string sql =
      "SELECT rp.begin_ts, rp.end_ts, d.id, s.id, pr.id, r.class, r.dkim_aligned, r.spf_aligned, r.disposition, "
      "r.dkim_evaluated, r.spf_evaluated, ' ' || rr.id || ' ', r.count "
      "FROM reports rp JOIN records r ON r.report = rp.id "
      "JOIN rollup_domains d ON d.name = rp.domain "
      "JOIN rollup_sources s ON s.source_ip = r.source_ip "
      "JOIN reporters rr ON rr.org_name = rp.org_name "
      "JOIN rollup_profiles pr ON pr.header_from = r.header_from "
      "AND pr.dkim_auth = coalesce((SELECT group_concat(e, ' ') FROM (SELECT DISTINCT "
      "dk.domain || coalesce('/' || dk.selector, '') AS e FROM dkim_results dk WHERE dk.record = r.id ORDER BY e)), '') "
      "AND pr.spf_auth = coalesce((SELECT group_concat(e, ' ') FROM (SELECT DISTINCT sp.domain AS e "
      "FROM spf_results sp WHERE sp.record = r.id AND sp.domain <> '' ORDER BY e)), '') "
      "AND pr.unaligned_dkim = coalesce(r.unaligned_dkim_domain, '') "
      "AND pr.unaligned_spf = coalesce(r.unaligned_spf_domain, '') WHERE 1" +
      report_conditions(filter, "rp", next);
  Statement s = db_.prepare(sql);
  int bind = 1;
  bind_report_conditions(s, filter, bind);
  ScanRow row;
  while (s.step()) {
    row.begin = s.column_int(0);
    row.end = s.column_int(1);
    row.domain = s.column_int(2);
    row.source = s.column_int(3);
    row.profile = s.column_int(4);
    row.verdict.traffic_class = class_from_text(text_view(s, 5));
    row.verdict.dkim_aligned = s.column_int(6) != 0;
    row.verdict.spf_aligned = s.column_int(7) != 0;
    row.verdict.disposition = parse_disposition(text_view(s, 8)).value;
    row.verdict.dkim_evaluated = parse_dmarc_result(text_view(s, 9)).value;
    row.verdict.spf_evaluated = parse_dmarc_result(text_view(s, 10)).value;
    row.reporters = text_view(s, 11);
    row.messages = s.column_int(12);
    row.records = 1;
    visit(row);
  }
}

void SqliteQueries::scan(const QueryFilter& filter, const std::vector<TrafficClass>& classes, bool details,
                         bool months, const std::function<void(const ScanRow&)>& visit) {
  const auto in_range = sources_in_range(filter);
  auto wanted = [&](const ScanRow& row) {
    if (!classes.empty() && std::find(classes.begin(), classes.end(), row.verdict.traffic_class) == classes.end())
      return false;
    if (in_range && (row.source < 0 || static_cast<std::size_t>(row.source) >= in_range->size() ||
                     !(*in_range)[static_cast<std::size_t>(row.source)]))
      return false;
    return true;
  };
  if (filter.reporter) {
    scan_base_tables(filter, [&](const ScanRow& row) {
      if (wanted(row)) visit(row);
    });
    return;
  }
  const auto domains = domain_ids(filter);
  if (domains && domains->empty()) return;  // none of them has reports
  const std::string domain_condition = domains ? " AND domain IN (" + id_list(*domains) + ")" : "";
  const std::string columns = details ? "domain, source, profile, verdict, reporters, messages, records"
                                      : "domain, 0, 0, verdict, '', messages, records";
  const auto [min_span, max_span] = report_spans();
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
  const std::int64_t since = filter.since.value_or(kNone);

  // Whole months inside [since, until): a report that begins in one overlaps
  // the window. With a zero-length report the month must start after since.
  std::int64_t first_month = 0, last_month = -1;
  if (months) {
    if (filter.since) {
      first_month = month_of(*filter.since);
      if (month_start(first_month) < *filter.since || (min_span == 0 && month_start(first_month) == *filter.since))
        ++first_month;
    } else {
      first_month = std::numeric_limits<std::int32_t>::min();
    }
    last_month = filter.until ? month_of(*filter.until) - 1 : std::numeric_limits<std::int32_t>::max();
  }
  const bool use_months = months && first_month <= last_month;

  ScanRow row;
  auto read_window_rows = [&](Statement& s) {
    while (s.step()) {
      row.end = s.column_int(0);
      row.begin = s.column_int(1);
      row.domain = s.column_int(2);
      row.source = s.column_int(3);
      row.profile = s.column_int(4);
      row.verdict = Verdict::unpack(s.column_int(5));
      row.reporters = text_view(s, 6);
      row.messages = s.column_int(7);
      row.records = s.column_int(8);
      if (wanted(row)) visit(row);
    }
  };
  const std::string window_sql = "SELECT end_ts, begin_ts, " + columns + " FROM source_windows WHERE ";
  if (!use_months) {
    // end_ts leads the key: bound the scan on both sides.
    std::string sql = window_sql + "end_ts > ?1 AND end_ts <= ?2 AND begin_ts < ?3" + domain_condition;
    Statement s = db_.prepare(sql);
    s.bind(1, since);
    const std::int64_t until = filter.until.value_or(std::numeric_limits<std::int64_t>::max());
    s.bind(2, filter.until ? until + max_span : until).bind(3, until);
    read_window_rows(s);
    return;
  }

  const std::int64_t months_begin = filter.since ? month_start(first_month) : kNone;
  const std::int64_t months_end =
      filter.until ? month_start(last_month + 1) : std::numeric_limits<std::int64_t>::max();
  // The edges before and after the whole months, per report window.
  if (filter.since) {
    Statement s = db_.prepare(window_sql + "end_ts > ?1 AND end_ts <= ?2 AND begin_ts < ?3" + domain_condition);
    s.bind(1, since).bind(2, months_begin + max_span).bind(3, months_begin);
    read_window_rows(s);
  }
  if (filter.until) {
    Statement s = db_.prepare(window_sql + "end_ts >= ?1 AND end_ts <= ?2 AND begin_ts >= ?1 AND begin_ts < ?3" +
                              domain_condition);
    s.bind(1, months_end).bind(2, *filter.until + max_span).bind(3, *filter.until);
    read_window_rows(s);
  }
  // Read as window rows: a month row's (last_seen, first_seen) stand for (end, begin).
  Statement s = db_.prepare("SELECT last_seen, first_seen, " + columns +
                            " FROM source_months WHERE month >= ?1 AND month <= ?2" + domain_condition);
  s.bind(1, first_month).bind(2, last_month);
  read_window_rows(s);
}

}  // namespace store
}  // namespace dmarcq
