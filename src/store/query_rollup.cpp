// Rollup maintenance: UPSERT per record at ingest, window rebuilds for
// reprocess, and the full rebuild.
#include "query_rollup.hpp"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

namespace dmarcq::store {

namespace {

constexpr std::string_view kRollupKey =
    "end_ts, begin_ts, domain, source_ip, header_from, class, dkim_aligned, spf_aligned, "
    "disposition, dkim_evaluated, spf_evaluated, dkim_auth, spf_auth, unaligned_dkim, unaligned_spf";

std::string join_sorted_unique(std::vector<std::string>& items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  std::string joined;
  for (const auto& item : items) {
    if (!joined.empty()) joined += ' ';
    joined += item;
  }
  return joined;
}

template <typename E>
std::string_view enum_text(const Enumerated<E>& value) {
  return value.value == E::absent ? std::string_view() : to_string(value.value);
}

}  // namespace

std::string rollup_select_sql(std::string_view report_condition) {
  return fmt::format(
      "SELECT rp.end_ts, rp.begin_ts, rp.domain, r.source_ip, r.header_from, r.class, r.dkim_aligned, "
      "r.spf_aligned, coalesce(r.disposition, ''), coalesce(r.dkim_evaluated, ''), "
      "coalesce(r.spf_evaluated, ''), "
      "coalesce((SELECT group_concat(e, ' ') FROM (SELECT DISTINCT d.domain || coalesce('/' || d.selector, '') AS e "
      "FROM dkim_results d WHERE d.record = r.id ORDER BY e)), ''), "
      "coalesce((SELECT group_concat(e, ' ') FROM (SELECT DISTINCT s.domain AS e "
      "FROM spf_results s WHERE s.record = r.id AND s.domain <> '' ORDER BY e)), ''), "
      "coalesce(r.unaligned_dkim_domain, ''), coalesce(r.unaligned_spf_domain, ''), "
      "min(r.ip), ' ' || replace(group_concat(DISTINCT rr.id), ',', ' ') || ' ', sum(r.count), count(*) "
      "FROM records r JOIN reports rp ON rp.id = r.report JOIN reporters rr ON rr.org_name = rp.org_name "
      "WHERE {} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15",
      report_condition.empty() ? std::string_view("1") : report_condition);
}

std::string dkim_auth_text(const Record& record) {
  std::vector<std::string> items;
  items.reserve(record.dkim.size());
  for (const auto& dkim : record.dkim)
    items.push_back(dkim.selector ? dkim.domain + "/" + *dkim.selector : dkim.domain);
  return join_sorted_unique(items);
}

std::string spf_auth_text(const Record& record) {
  std::vector<std::string> items;
  items.reserve(record.spf.size());
  for (const auto& spf : record.spf)
    if (!spf.domain.empty()) items.push_back(spf.domain);
  return join_sorted_unique(items);
}

RollupWriter::RollupWriter(const Database& db)
    : insert_reporter_(db.prepare("INSERT OR IGNORE INTO reporters (org_name) VALUES (?1)")),
      find_reporter_(db.prepare("SELECT id FROM reporters WHERE org_name = ?1")),
      insert_span_(db.prepare("INSERT OR IGNORE INTO report_spans (span) VALUES (?1)")),
      upsert_(db.prepare(fmt::format(
          "INSERT INTO daily_sources ({}, ip, reporters, messages, records) VALUES (?1, ?2, ?3, ?4, "
          "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) "
          "ON CONFLICT ({}) DO UPDATE SET messages = messages + excluded.messages, "
          "records = records + excluded.records, reporters = CASE WHEN instr(reporters, excluded.reporters) > 0 "
          "THEN reporters ELSE reporters || substr(excluded.reporters, 2) END",
          kRollupKey, kRollupKey))),
      windows_of_payload_(db,
          "SELECT DISTINCT domain, begin_ts, end_ts FROM reports WHERE raw_payload = ?1"),
      delete_window_(db,
          "DELETE FROM daily_sources WHERE end_ts = ?3 AND begin_ts = ?2 AND domain = ?1"),
      rebuild_window_(db,
          "INSERT INTO daily_sources " +
          rollup_select_sql("rp.domain = ?1 AND rp.begin_ts = ?2 AND rp.end_ts = ?3")) {}

std::int64_t RollupWriter::begin_report(const AggregateReport& report) {
  insert_reporter_.bind(1, std::string_view(report.org_name)).run();
  find_reporter_.bind(1, std::string_view(report.org_name));
  find_reporter_.step();
  const std::int64_t id = find_reporter_.column_int(0);
  find_reporter_.reset();
  insert_span_.bind(1, report.end - report.begin).run();
  return id;
}

namespace {

void append_key_field(std::string& key, std::string_view value) {
  key += std::to_string(value.size());
  key += ':';
  key += value;
}

}  // namespace

void RollupWriter::add_records(const AggregateReport& report, std::int64_t reporter) {
  // One UPSERT per distinct rollup key of the report, not one per record.
  // The report's window, domain and reporter are common to all its records.
  struct Group {
    std::size_t first;  // a record with this key
    std::string dkim_auth, spf_auth;
    std::int64_t messages = 0, records = 0;
  };
  std::unordered_map<std::string, std::size_t> index;
  std::vector<Group> groups;
  index.reserve(report.records.size());
  groups.reserve(report.records.size());
  std::string key;
  for (std::size_t i = 0; i < report.records.size(); ++i) {
    const Record& r = report.records[i];
    key.clear();
    append_key_field(key, r.source_ip);
    append_key_field(key, r.header_from);
    append_key_field(key, to_string(r.verdict.traffic_class));
    key += r.verdict.dkim_aligned ? '1' : '0';
    key += r.verdict.spf_aligned ? '1' : '0';
    append_key_field(key, enum_text(r.disposition));
    append_key_field(key, enum_text(r.policy_evaluated_dkim));
    append_key_field(key, enum_text(r.policy_evaluated_spf));
    std::string dkim_auth = dkim_auth_text(r);
    std::string spf_auth = spf_auth_text(r);
    append_key_field(key, dkim_auth);
    append_key_field(key, spf_auth);
    append_key_field(key, r.verdict.unaligned_dkim_pass_domain);
    append_key_field(key, r.verdict.unaligned_spf_pass_domain);
    const auto [at, added] = index.try_emplace(key, groups.size());
    if (added) groups.push_back(Group{i, std::move(dkim_auth), std::move(spf_auth)});
    Group& group = groups[at->second];
    if (__builtin_add_overflow(group.messages, r.count, &group.messages)) {
      // Beyond 64 bits: leave the arithmetic (and its error) to SQLite, as per record.
      for (const Record& each : report.records) add_record(report, reporter, each);
      return;
    }
    ++group.records;
  }
  for (const Group& group : groups)
    upsert(report, reporter, report.records[group.first], group.dkim_auth, group.spf_auth,
           group.messages, group.records);
}

void RollupWriter::add_record(const AggregateReport& report, std::int64_t reporter,
                              const Record& r) {
  const std::string dkim_auth = dkim_auth_text(r), spf_auth = spf_auth_text(r);
  upsert(report, reporter, r, dkim_auth, spf_auth, r.count, 1);
}

void RollupWriter::upsert(const AggregateReport& report, std::int64_t reporter, const Record& r,
                          std::string_view dkim_auth, std::string_view spf_auth,
                          std::int64_t messages, std::int64_t records) {
  if (reporter != reporter_id_) {  // once per report, not per record
    reporter_text_ = fmt::format(" {} ", reporter);
    reporter_id_ = reporter;
  }
  // Bound without copies (SQLITE_STATIC): every value lives in the report,
  // the caller or this writer until run() has stepped and reset the statement.
  Statement& s = upsert_;
  s.bind(1, report.end).bind(2, report.begin).bind_static(3, std::string_view(report.policy.domain));
  s.bind_static(4, std::string_view(r.source_ip)).bind_static(5, std::string_view(r.header_from));
  s.bind_static(6, to_string(r.verdict.traffic_class));
  s.bind(7, std::int64_t{r.verdict.dkim_aligned}).bind(8, std::int64_t{r.verdict.spf_aligned});
  s.bind_static(9, enum_text(r.disposition)).bind_static(10, enum_text(r.policy_evaluated_dkim));
  s.bind_static(11, enum_text(r.policy_evaluated_spf));
  s.bind_static(12, dkim_auth).bind_static(13, spf_auth);
  s.bind_static(14, std::string_view(r.verdict.unaligned_dkim_pass_domain));
  s.bind_static(15, std::string_view(r.verdict.unaligned_spf_pass_domain));
  if (r.source_ip_valid)
    s.bind_blob_static(16, r.source_ip_key.data(), r.source_ip_key.size());
  else
    s.bind_null(16);
  s.bind_static(17, std::string_view(reporter_text_)).bind(18, messages).bind(19, records);
  s.run();
}

std::vector<ReportWindow> RollupWriter::windows_of_payload(std::int64_t raw_payload) {
  std::vector<ReportWindow> windows;
  windows_of_payload_->bind(1, raw_payload);
  while (windows_of_payload_->step())
    windows.push_back({windows_of_payload_->column_text(0), windows_of_payload_->column_int(1),
                       windows_of_payload_->column_int(2)});
  windows_of_payload_->reset();
  return windows;
}

void RollupWriter::rebuild_windows(const std::vector<ReportWindow>& windows) {
  for (const ReportWindow& w : windows) {
    delete_window_->bind(1, std::string_view(w.domain)).bind(2, w.begin).bind(3, w.end).run();
    rebuild_window_->bind(1, std::string_view(w.domain)).bind(2, w.begin).bind(3, w.end).run();
  }
}

std::int64_t rebuild_rollups(Database& db) {
  WriteTransaction transaction(db);
  db.exec("DELETE FROM daily_sources");
  db.exec("DELETE FROM report_spans");
  db.exec("INSERT OR IGNORE INTO reporters (org_name) SELECT DISTINCT org_name FROM reports");
  db.exec("INSERT INTO report_spans (span) SELECT DISTINCT end_ts - begin_ts FROM reports");
  db.exec("INSERT INTO daily_sources " + rollup_select_sql(""));
  Statement count = db.prepare("SELECT count(*) FROM daily_sources");
  count.step();
  const std::int64_t rows = count.column_int(0);
  transaction.commit();
  return rows;
}

}  // namespace dmarcq::store
