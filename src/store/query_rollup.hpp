// The rollup (schema/005_rollup_v2.sql): maintained by the write path in the
// same transaction as the records, rebuilt by `dmarcq db rebuild-rollups`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dmarcq/model.hpp"
#include "record_encoding.hpp"
#include "sqlite_handle.hpp"

namespace dmarcq::store {

// The packed verdict column (bit layout in schema/005_rollup_v2.sql).
struct Verdict {
  TrafficClass traffic_class = TrafficClass::impersonation;
  bool dkim_aligned = false, spf_aligned = false;
  Disposition disposition = Disposition::absent;
  DmarcResult dkim_evaluated = DmarcResult::absent, spf_evaluated = DmarcResult::absent;

  [[nodiscard]] std::int64_t pack() const;
  static Verdict unpack(std::int64_t code);
  [[nodiscard]] bool dmarc_pass() const { return dkim_aligned || spf_aligned; }
  // The receiver's policy_evaluated verdict differs from ours (only when it gave one).
  [[nodiscard]] bool receiver_disagrees() const;
};

Verdict verdict_of(const Record& record);

// UTC month of an epoch (12 * year + month - 1) and the epoch it starts at.
std::int64_t month_of(std::int64_t epoch);
std::int64_t month_start(std::int64_t month);

// The rollup's auth columns for one record: sorted distinct "domain/selector"
// of its DKIM results, sorted distinct non-empty SPF domains, ' '-joined.
// Appended to `out`.
void append_dkim_auth(std::string& out, const Record& record);
void append_spf_auth(std::string& out, const Record& record);

// Appends rollup_profiles' cache key of a record's profile columns.
void append_profile_key(std::string& key, std::string_view header_from, std::string_view dkim_auth,
                        std::string_view spf_auth, std::string_view unaligned_dkim,
                        std::string_view unaligned_spf);

// What the rollup keeps of one record.
struct RollupRecord {
  std::string_view source_ip;
  std::string_view ip;  // 16 bytes, or empty when the source is not an IP
  std::string_view header_from, dkim_auth, spf_auth, unaligned_dkim, unaligned_spf;
  std::int64_t verdict = 0;
  std::int64_t messages = 0;
  std::string_view profile_key;  // append_profile_key() of the above when known; empty = computed
};

// rollup_sources ids (and first_end) of IP sources, by their 16 address
// bytes, in an open-addressing table: as a std::unordered_map keyed by the
// address text it cost ~2.4% of a batch import's CPU (hashing the text,
// chasing nodes). Grows from 64 slots (one MDA delivery pages in little) up
// to kMaxSlots, and is emptied when that is half full.
class SourceIdCache {
 public:
  struct Known {
    std::int64_t id = 0, first_end = 0;
  };
  // nullptr when `address` (16 bytes) is not cached.
  Known* find(std::string_view address);
  Known& insert(std::string_view address, Known known);
  void clear();
  [[nodiscard]] std::size_t size() const { return size_; }

 private:
  static constexpr std::size_t kMaxSlots = 1 << 16;  // 2.6 MB, 32,768 sources
  struct Slot {
    std::uint64_t high = 0, low = 0;
    Known known;
    bool used = false;
  };
  std::size_t slot_of(std::uint64_t high, std::uint64_t low) const;
  Slot& place(const Slot& slot);  // into the first free slot of its probe sequence
  void rehash(std::size_t slots);
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

// The rollup's view of a stored record (views into both arguments).
RollupRecord rollup_record_of(const Record& record, const EncodedRecord& encoded);

struct ReportWindow {
  std::string domain;
  std::int64_t begin = 0, end = 0;
};

// Collects the rollup rows of the reports it is given in memory and writes
// them with one UPSERT per distinct row at flush() (the store calls it before
// every COMMIT). What an input added since the last accept() is dropped by
// discard(), as its ROLLBACK TO drops its rows.
class RollupWriter {
 public:
  // multi_row: rows are written with multi-row UPSERTs (batch imports and
  // rebuilds; one MDA delivery would pay for preparing them).
  explicit RollupWriter(const Database& db, bool multi_row = false);
  ~RollupWriter();
  RollupWriter(const RollupWriter&) = delete;
  RollupWriter& operator=(const RollupWriter&) = delete;

  // A report, then each of its records.
  void begin_report(std::string_view domain, std::string_view org_name, std::int64_t begin,
                    std::int64_t end);
  void add_record(const RollupRecord& record);

  void accept();   // the staged input is in the transaction: keep its share
  void discard();  // it was rolled back
  void flush();    // writes what was accepted
  void reset();    // the transaction was rolled back: forget everything

  // Reprocess: the windows of the reports parsed from a raw payload, read
  // before they are deleted, then recomputed from what remains.
  std::vector<ReportWindow> windows_of_payload(std::int64_t raw_payload);
  void rebuild_windows(const std::vector<ReportWindow>& windows);

  // Adds the records of the reports matching a condition on `rp` from the
  // base tables, then flushes (reprocess: windows only; full rebuild: all).
  void add_from_base_tables(std::string_view condition, const std::function<void(Statement&)>& bind,
                            bool months);

 private:
  struct Sums;
  std::int64_t dictionary_id(std::unordered_map<std::string, std::int64_t>& cache, Statement& find,
                             LazyStatement& insert, const std::string& key,
                             const std::function<void(Statement&)>& bind);
  // Also keeps rollup_sources.first_end (the earliest report end) current.
  std::int64_t source_id(std::string_view source_ip, std::string_view ip);
  std::int64_t profile_id(const RollupRecord& record);
  void write_combined(Sums& sums);

  const Database& db_;
  Statement find_reporter_, insert_span_, find_domain_, find_source_, insert_source_, find_profile_;
  // Run only for what the database does not hold yet, or for reports
  // imported out of order: not prepared for a delivery that needs none.
  LazyStatement insert_reporter_, insert_domain_, update_first_end_, insert_profile_;
  MultiRowInsert upsert_windows_, upsert_months_;  // chunks of 32 rows, or of 1 (multi_row off)
  LazyStatement windows_of_payload_, delete_window_;  // reprocess only
  std::unordered_map<std::string, std::int64_t> reporters_, domains_, profiles_;
  SourceIdCache address_sources_;  // sources that are IPs
  std::unordered_map<std::string, SourceIdCache::Known> text_sources_;  // the others
  std::unordered_map<std::int64_t, bool> spans_;
  std::unique_ptr<Sums> sums_;
  std::int64_t reporter_ = 0, domain_ = 0, begin_ = 0, end_ = 0, month_ = 0;
  bool stage_months_ = true;
  std::string key_;  // scratch
};

// Empties and recomputes every rollup table, in the caller's transaction.
// Returns the number of source_windows rows.
std::int64_t rebuild_rollups_in_transaction(Database& db);
// The same in its own transaction.
std::int64_t rebuild_rollups(Database& db);

}  // namespace dmarcq::store
