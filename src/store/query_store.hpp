// SQLite implementation of dmarcq::Queries (include/dmarcq/query.hpp).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <array>
#include <map>
#include <unordered_map>

#include "dmarcq/query.hpp"
#include "sqlite_handle.hpp"

namespace dmarcq::store {

// One aggregated row as the queries see it: a rollup row, or (with a
// --reporter filter, which the rollup cannot split) one record. The views
// are valid during the callback only.
struct ScanRow {
  std::int64_t begin = 0, end = 0;
  std::string_view domain, source_ip, header_from, traffic_class, disposition, dkim_evaluated,
      spf_evaluated, dkim_auth, spf_auth, unaligned_dkim, unaligned_spf, ip, reporters;
  bool dkim_aligned = false, spf_aligned = false;
  std::int64_t messages = 0, records = 0;

  [[nodiscard]] bool dmarc_pass() const { return dkim_aligned || spf_aligned; }
  // The receiver's policy_evaluated verdict differs from ours (only when it gave one).
  [[nodiscard]] bool receiver_disagrees() const;
};

class SqliteQueries final : public Queries {
 public:
  explicit SqliteQueries(const StoreOptions& options);

  std::vector<SummaryRow> summary(const QueryFilter& filter) override;
  std::vector<SourceRow> sources(const QueryFilter& filter, const SourceQuery& query) override;
  std::vector<TimelineRow> timeline(const QueryFilter& filter, Period period) override;
  std::vector<ReportRow> reports(const QueryFilter& filter) override;
  std::optional<ReportDetail> show(const std::string& report) override;
  void sql(const std::string& statement,
           const std::function<void(const std::vector<SqlColumn>&)>& header,
           const std::function<void(const std::vector<SqlValue>&)>& row) override;

 private:
  // Every row matching the filter's domains / window / reporter / ip and (when
  // not empty) one of `classes`. Without `details` the text columns that only
  // `sources` needs (header_from, auth, reporters, ip) are left empty.
  void scan(const QueryFilter& filter, const std::vector<std::string_view>& classes, bool details,
            const std::function<void(const ScanRow&)>& visit);
  // Failure reports per Source-IP key within the filter's window and domains.
  std::map<std::array<std::uint8_t, 16>, std::int64_t> failure_counts(const QueryFilter& filter);
  // reporters.id -> org_name
  const std::unordered_map<std::int64_t, std::string>& reporter_names();
  // Appends " AND ..." for the report filters on table alias `rp` and binds later.
  std::string report_conditions(const QueryFilter& filter, std::string_view alias, int& next) const;
  void bind_report_conditions(Statement& statement, const QueryFilter& filter, int& next) const;

  StoreOptions options_;
  Database db_;
  std::unordered_map<std::int64_t, std::string> reporter_names_;
  bool reporter_names_loaded_ = false;
};

// "p=reject sp=none adkim=r aspf=s pct=100" (fields the report gave).
std::string describe_policy(std::string_view p, std::string_view sp, std::string_view adkim,
                            std::string_view aspf, std::optional<std::int64_t> pct);

}  // namespace dmarcq::store
