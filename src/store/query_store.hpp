// SQLite implementation of dmarcq::Queries (include/dmarcq/query.hpp).
#pragma once

#include <exception>
#include <functional>
#include <stop_token>
#include <thread>
#include <string>
#include <string_view>
#include <array>
#include <map>
#include <unordered_map>

#include "dmarcq/query.hpp"
#include "huge_page_allocator.hpp"
#include "query_rollup.hpp"
#include "sqlite_handle.hpp"

namespace dmarcq::store {

// One aggregated row as the queries see it: a rollup row (a report window's,
// or a whole month's), or (with a --reporter filter, which the rollup cannot
// split) one record. Texts are dictionary ids (SqliteQueries resolves them);
// the reporters view is valid during the callback only.
struct ScanRow {
  std::int64_t begin = 0, end = 0;  // report window; a month row: first begin, last end
  std::int64_t domain = 0, source = 0, profile = 0;
  Verdict verdict;
  std::string_view reporters;  // " 3 7 " (reporters.id)
  std::int64_t messages = 0, records = 0;
};

// What a rollup profile id stands for, as a SourceRow lists it: each list
// split on ' ', sorted, without repeats (unaligned: DKIM's and SPF's together).
struct Profile {
  std::vector<std::string> header_from, dkim_domains, spf_domains, unaligned_domains;
  static const Profile& none() {  // a source without a profile id
    static const Profile empty;
    return empty;
  }
};

// Texts and addresses of rollup_sources ids, by id: filled in id order,
// then read in any order (the aggregates are not touched for them).
struct SourceNames {
  struct Entry {
    std::size_t text_begin = 0, text_size = 0;
    bool found = false, has_address = false;
    IpAddress address;
  };
  std::vector<Entry, HugePageAllocator<Entry>> by_id;  // read in random order
  std::string texts;
  void add(std::int64_t id, std::string_view text, const std::optional<IpAddress>& address);
  [[nodiscard]] std::string_view text(const Entry& entry) const {
    return std::string_view(texts).substr(entry.text_begin, entry.text_size);
  }
};

// Reads every row of rollup_sources on a thread and a connection of its own,
// beside the scan of a full listing. Destroyed without take(), it stops early.
class SourceNamesReader {
 public:
  explicit SourceNamesReader(const StoreOptions& options);
  SourceNamesReader(const SourceNamesReader&) = delete;
  SourceNamesReader& operator=(const SourceNamesReader&) = delete;
  ~SourceNamesReader() = default;  // the jthread asks to stop, then joins

  // Waits for the names; rethrows what the reader threw.
  SourceNames take();

 private:
  void read(const StoreOptions& options, const std::stop_token& stop);

  SourceNames names_;
  std::exception_ptr error_;
  std::jthread thread_;  // last: started when the rest is constructed
};

// Few of the `max_id` sources are wanted: a lookup each beats reading them all.
inline bool few_sources(std::size_t wanted, std::int64_t max_id) {
  return wanted * 8 <= static_cast<std::size_t>(std::max<std::int64_t>(max_id, 0));
}

class SqliteQueries final : public Queries {
 public:
  explicit SqliteQueries(const StoreOptions& options);

  std::vector<SummaryRow> summary(const QueryFilter& filter) override;
  std::size_t each_source(const QueryFilter& filter, const SourceQuery& query,
                          const std::function<void(const SourceRow&)>& row) override;
  std::vector<TimelineRow> timeline(const QueryFilter& filter, Period period) override;
  std::vector<ReportRow> reports(const QueryFilter& filter) override;
  std::optional<ReportDetail> show(const std::string& report) override;
  void sql(const std::string& statement,
           const std::function<void(const std::vector<SqlColumn>&)>& header,
           const std::function<void(const std::vector<SqlValue>&)>& row) override;

 private:
  // Every row matching the filter's domains / window / reporter / ip and (when
  // not empty) one of `classes`. `months`: whole months inside the window are
  // read from source_months (rows then span a month); else every row is one
  // report window. Without `details` source, profile and reporters are left 0/empty.
  void scan(const QueryFilter& filter, const std::vector<TrafficClass>& classes, bool details, bool months,
            const std::function<void(const ScanRow&)>& visit);
  void scan_base_tables(const QueryFilter& filter, const std::function<void(const ScanRow&)>& visit);
  // rollup_domains ids of the filter's domains; nullopt when it names none (all).
  std::optional<std::vector<std::int64_t>> domain_ids(const QueryFilter& filter);
  const std::unordered_map<std::int64_t, std::string>& domain_names();
  // id -> name from `sql` (SELECT id, name ...), read once.
  const std::unordered_map<std::int64_t, std::string>& load_names(
      std::string_view sql, std::unordered_map<std::int64_t, std::string>& names, bool& loaded);
  const Profile& profile(std::int64_t id);
  // Calls `found` with the text and address of each of the given source ids.
  void sources_of(const std::vector<std::int64_t>& ids,
                  const std::function<void(std::int64_t id, std::string_view text,
                                           const std::optional<IpAddress>& address)>& found);
  // Source ids whose address is in the filter's --ip range (nullopt: no --ip).
  std::optional<std::vector<bool>> sources_in_range(const QueryFilter& filter);
  std::pair<std::int64_t, std::int64_t> report_spans();  // min, max
  // Failure reports per Source-IP key within the filter's window and domains.
  std::map<std::array<std::uint8_t, 16>, std::int64_t> failure_counts(const QueryFilter& filter);
  // reporters.id -> org_name
  const std::unordered_map<std::int64_t, std::string>& reporter_names();
  // Appends " AND ..." for the report filters on table alias `rp` and binds later.
  std::string report_conditions(const QueryFilter& filter, std::string_view alias, int& next) const;
  void bind_report_conditions(Statement& statement, const QueryFilter& filter, int& next) const;

  StoreOptions options_;
  Database db_;
  std::unordered_map<std::int64_t, std::string> reporter_names_, domain_names_;
  bool reporter_names_loaded_ = false, domain_names_loaded_ = false;
  std::unordered_map<std::int64_t, Profile> profiles_;
};

// "p=reject sp=none adkim=r aspf=s pct=100" (fields the report gave).
std::string describe_policy(std::string_view p, std::string_view sp, std::string_view adkim,
                            std::string_view aspf, std::optional<std::int64_t> pct);

}  // namespace dmarcq::store
