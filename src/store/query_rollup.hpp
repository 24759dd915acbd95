// The rollup (schema/003_rollups.sql): maintained by the write path in the
// same transaction as the records, rebuilt by `dmarcq db rebuild-rollups`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/model.hpp"
#include "sqlite_handle.hpp"

namespace dmarcq::store {

// The SELECT that computes rollup rows from records/reports/reporters, with
// an optional extra condition on the report `rp` (e.g. one window). Must
// match the INSERT in schema/003_rollups.sql and RollupWriter's keys.
std::string rollup_select_sql(std::string_view report_condition);

// The rollup's auth columns for one record: sorted distinct "domain/selector"
// of its DKIM results, sorted distinct non-empty SPF domains, ' '-joined.
std::string dkim_auth_text(const Record& record);
std::string spf_auth_text(const Record& record);

struct ReportWindow {
  std::string domain;
  std::int64_t begin = 0, end = 0;
};

class RollupWriter {
 public:
  explicit RollupWriter(const Database& db);

  // Once per stored report: its reporter id (created if new) and its span.
  std::int64_t begin_report(const AggregateReport& report);
  // Once per stored record, or once per report for all of its records.
  void add_record(const AggregateReport& report, std::int64_t reporter, const Record& record);
  void add_records(const AggregateReport& report, std::int64_t reporter);

  // Reprocess: the windows of the reports parsed from a raw payload, read
  // before they are deleted, then recomputed from what remains.
  std::vector<ReportWindow> windows_of_payload(std::int64_t raw_payload);
  void rebuild_windows(const std::vector<ReportWindow>& windows);

 private:
  void upsert(const AggregateReport& report, std::int64_t reporter, const Record& record,
              std::string_view dkim_auth, std::string_view spf_auth, std::int64_t messages,
              std::int64_t records);

  Statement insert_reporter_, find_reporter_, insert_span_, upsert_;
  LazyStatement windows_of_payload_, delete_window_, rebuild_window_;  // reprocess only
  std::string reporter_text_;  // " id " of reporter_id_
  std::int64_t reporter_id_ = -1;
};

// Empties and recomputes every rollup table. Returns the rollup rows.
std::int64_t rebuild_rollups(Database& db);

}  // namespace dmarcq::store
