// Rollup maintenance: sums per batch in memory, UPSERTs at commit; window
// rebuilds for reprocess; the full rebuild.
#include "query_rollup.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "dmarcq/error.hpp"

namespace dmarcq::store {

// ---- verdict ---------------------------------------------------------------

static_assert(static_cast<int>(TrafficClass::aligned) == 0 && static_cast<int>(TrafficClass::impersonation) == 5,
              "schema/005 codes classes by TrafficClass's order");
static_assert(static_cast<int>(Disposition::absent) == 0 && static_cast<int>(Disposition::reject) == 4 &&
                  static_cast<int>(Disposition::unknown) == 5,
              "schema/005 codes dispositions by Disposition's order");
static_assert(static_cast<int>(DmarcResult::pass) == 1 && static_cast<int>(DmarcResult::unknown) == 3,
              "schema/005 codes policy_evaluated by DmarcResult's order");

std::int64_t Verdict::pack() const {
  return static_cast<std::int64_t>(traffic_class) | (dkim_aligned ? 8 : 0) | (spf_aligned ? 16 : 0) |
         (static_cast<std::int64_t>(disposition) << 5) | (static_cast<std::int64_t>(dkim_evaluated) << 8) |
         (static_cast<std::int64_t>(spf_evaluated) << 10);
}

Verdict Verdict::unpack(std::int64_t code) {
  Verdict v;
  const auto cls = code & 7;
  v.traffic_class = cls <= 5 ? static_cast<TrafficClass>(cls) : TrafficClass::impersonation;
  v.dkim_aligned = (code & 8) != 0;
  v.spf_aligned = (code & 16) != 0;
  const auto disposition = (code >> 5) & 7;
  v.disposition = disposition <= 5 ? static_cast<Disposition>(disposition) : Disposition::unknown;
  v.dkim_evaluated = static_cast<DmarcResult>((code >> 8) & 3);
  v.spf_evaluated = static_cast<DmarcResult>((code >> 10) & 3);
  return v;
}

bool Verdict::receiver_disagrees() const {
  if (dkim_evaluated == DmarcResult::absent && spf_evaluated == DmarcResult::absent) return false;
  const bool receiver_pass = dkim_evaluated == DmarcResult::pass || spf_evaluated == DmarcResult::pass;
  return receiver_pass != dmarc_pass();
}

Verdict verdict_of(const Record& record) {
  Verdict v;
  v.traffic_class = record.verdict.traffic_class;
  v.dkim_aligned = record.verdict.dkim_aligned;
  v.spf_aligned = record.verdict.spf_aligned;
  v.disposition = record.disposition.value;
  v.dkim_evaluated = record.policy_evaluated_dkim.value;
  v.spf_evaluated = record.policy_evaluated_spf.value;
  return v;
}

namespace {

TrafficClass class_from_text(std::string_view text) {
  for (const TrafficClass c : {TrafficClass::aligned, TrafficClass::dkim_only, TrafficClass::spf_only,
                               TrafficClass::forwarded, TrafficClass::misaligned})
    if (text == to_string(c)) return c;
  return TrafficClass::impersonation;
}

// ---- months ----------------------------------------------------------------

// Howard Hinnant's civil_from_days / days_from_civil.
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::int64_t month_of(std::int64_t epoch) {
  std::int64_t days = floor_div(epoch, 86400) + 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return year * 12 + month - 1;
}

std::int64_t month_start(std::int64_t month_index) {
  std::int64_t y = floor_div(month_index, 12);
  const std::int64_t m = month_index - y * 12 + 1;
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (era * 146097 + doe - 719468) * 86400;
}

// ---- auth texts ------------------------------------------------------------

namespace {

void append_sorted_unique(std::string& out, std::vector<std::string>& items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += ' ';
    first = false;
    out += item;
  }
}

}  // namespace

// A record usually has one result of each kind: that one needs no sorting.
void append_dkim_auth(std::string& out, const Record& record) {
  if (record.dkim.size() == 1) {
    const DkimAuthResult& dkim = record.dkim.front();
    out += dkim.domain;
    if (dkim.selector) {
      out += '/';
      out += *dkim.selector;
    }
    return;
  }
  std::vector<std::string> items;
  items.reserve(record.dkim.size());
  for (const auto& dkim : record.dkim)
    items.push_back(dkim.selector ? dkim.domain + "/" + *dkim.selector : dkim.domain);
  append_sorted_unique(out, items);
}

void append_spf_auth(std::string& out, const Record& record) {
  if (record.spf.size() == 1) {
    out += record.spf.front().domain;
    return;
  }
  std::vector<std::string> items;
  items.reserve(record.spf.size());
  for (const auto& spf : record.spf)
    if (!spf.domain.empty()) items.push_back(spf.domain);
  append_sorted_unique(out, items);
}

// ---- reporter sets ---------------------------------------------------------

namespace {

using Ids = std::vector<std::int64_t>;

void parse_ids(std::string_view text, Ids& into) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    if (*p < '0' || *p > '9') {
      ++p;
      continue;
    }
    std::int64_t value = 0;
    const auto [next, ec] = std::from_chars(p, end, value);
    if (ec == std::errc()) into.push_back(value);
    p = next == p ? p + 1 : next;
  }
}

std::string format_ids(Ids& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::string text = " ";
  for (const std::int64_t id : ids) {
    text += std::to_string(id);
    text += ' ';
  }
  return text;
}

// dmarcq_union_ids(a, b): the union of two reporter sets, " 3 7 " (every
// integer in either text). Used by the UPSERTs and the month recompute.
void union_ids_function(sqlite3_context* context, int argc, sqlite3_value** argv) {
  Ids ids;
  for (int i = 0; i < argc; ++i) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[i]));
    if (text) parse_ids(std::string_view(text, static_cast<std::size_t>(sqlite3_value_bytes(argv[i]))), ids);
  }
  const std::string result = format_ids(ids);
  sqlite3_result_text(context, result.data(), static_cast<int>(result.size()), SQLITE_TRANSIENT);
}

// ---- in-memory sums --------------------------------------------------------
//
// One entry per record, appended: the records of a report seldom share a
// key, so hashing them cost more than it saved. flush() sorts (the UPSERTs
// then walk the b-tree in order) and sums entries with equal keys.

struct WindowKey {
  std::int64_t end, begin, domain, source, profile, verdict;
  auto operator<=>(const WindowKey&) const = default;
};
struct MonthKey {
  std::int64_t month, domain, source, profile, verdict;
  auto operator<=>(const MonthKey&) const = default;
};

template <typename Key>
struct Entry {
  Key key;
  std::int64_t reporter, messages, first, last;
};

void append_ids_text(std::string& text, Ids& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  text.assign(1, ' ');
  char digits[24];
  for (const std::int64_t id : ids) {
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, id);
    text.append(digits, end);
    text += ' ';
  }
}

// Sorts the entries and calls write(key, reporters text, messages, records,
// first, last) once per distinct key.
template <typename Key, typename Write>
void combine(std::vector<Entry<Key>>& entries, Write&& write) {
  std::sort(entries.begin(), entries.end(), [](const Entry<Key>& a, const Entry<Key>& b) { return a.key < b.key; });
  Ids reporters;
  std::string text;
  for (std::size_t i = 0; i < entries.size();) {
    std::size_t j = i;
    std::int64_t messages = 0, records = 0;
    std::int64_t first = std::numeric_limits<std::int64_t>::max(), last = std::numeric_limits<std::int64_t>::min();
    reporters.clear();
    for (; j < entries.size() && entries[j].key == entries[i].key; ++j) {
      if (__builtin_add_overflow(messages, entries[j].messages, &messages))
        throw Failure(ErrorKind::limit_exceeded, "the sum of the records' counts exceeds 64 bits");
      ++records;
      first = std::min(first, entries[j].first);
      last = std::max(last, entries[j].last);
      reporters.push_back(entries[j].reporter);
    }
    append_ids_text(text, reporters);
    write(entries[i].key, std::string_view(text), messages, records, first, last);
    i = j;
  }
  entries.clear();
}

std::string_view text_view(const Statement& s, int index) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), index));
  return text ? std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(s.get(), index)))
              : std::string_view();
}

// Bounds the dictionary caches of a long batch import (ids stay valid: the
// dictionaries are never emptied, not even by a rebuild). 200,000 entries
// took ~25 MB of a 100,000-email batch; 32,768 was as fast on that batch.
constexpr std::size_t kMaxCachedIds = 32'768;

// Rollup entries kept in memory before they are written (about 80 reports of
// 25 records; a single report larger than that is written when accepted).
constexpr std::size_t kFlushEntries = 2'000;

void append_key_field(std::string& key, std::string_view value) {
  key += std::to_string(value.size());
  key += ':';
  key += value;
}

}  // namespace

void append_profile_key(std::string& key, std::string_view header_from, std::string_view dkim_auth,
                        std::string_view spf_auth, std::string_view unaligned_dkim,
                        std::string_view unaligned_spf) {
  append_key_field(key, header_from);
  append_key_field(key, dkim_auth);
  append_key_field(key, spf_auth);
  append_key_field(key, unaligned_dkim);
  append_key_field(key, unaligned_spf);
}

// One rollup row as combine() makes it, kept until its chunk is written.
template <typename Key>
struct Combined {
  Key key;
  std::string reporters;
  std::int64_t messages, records, first, last;
};

struct RollupWriter::Sums {
  std::vector<Entry<WindowKey>> windows;
  std::vector<Entry<MonthKey>> months;
  std::vector<Combined<WindowKey>> combined_windows;  // write_combined's scratch
  std::vector<Combined<MonthKey>> combined_months;
  std::size_t accepted_windows = 0, accepted_months = 0;  // the rest is the staged input's
};

namespace {

constexpr std::string_view kWindowInsert =
    "INSERT INTO source_windows (end_ts, begin_ts, domain, source, profile, verdict, reporters, messages, "
    "records)";
constexpr std::string_view kWindowConflict =
    " ON CONFLICT DO UPDATE SET "
    "messages = messages + excluded.messages, records = records + excluded.records, "
    "reporters = CASE WHEN reporters = excluded.reporters THEN reporters "
    "ELSE dmarcq_union_ids(reporters, excluded.reporters) END";
constexpr std::string_view kMonthInsert =
    "INSERT INTO source_months (month, domain, source, profile, verdict, first_seen, last_seen, reporters, "
    "messages, records)";
constexpr std::string_view kMonthConflict =
    " ON CONFLICT DO UPDATE SET "
    "first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen), "
    "messages = messages + excluded.messages, records = records + excluded.records, "
    "reporters = CASE WHEN reporters = excluded.reporters THEN reporters "
    "ELSE dmarcq_union_ids(reporters, excluded.reporters) END";
// Rows per multi-row UPSERT (MultiRowInsert) in batch imports and rebuilds.
constexpr std::size_t kUpsertChunkRows = 32;

// One row per record of the reports matching a condition on `rp`, with what
// the rollup needs; the auth texts are computed as dkim_auth_text() does.
std::string base_rows_sql(std::string_view report_condition) {
  return fmt::format(
      "SELECT rp.id, rp.domain, rp.org_name, rp.begin_ts, rp.end_ts, r.source_ip, r.ip, r.header_from, "
      "coalesce((SELECT group_concat(e, ' ') FROM (SELECT DISTINCT d.domain || coalesce('/' || d.selector, '') AS e "
      "FROM dkim_results d WHERE d.record = r.id ORDER BY e)), ''), "
      "coalesce((SELECT group_concat(e, ' ') FROM (SELECT DISTINCT s.domain AS e "
      "FROM spf_results s WHERE s.record = r.id AND s.domain <> '' ORDER BY e)), ''), "
      "coalesce(r.unaligned_dkim_domain, ''), coalesce(r.unaligned_spf_domain, ''), r.class, "
      "r.dkim_aligned, r.spf_aligned, r.disposition, r.dkim_evaluated, r.spf_evaluated, r.count "
      "FROM reports rp JOIN records r ON r.report = rp.id WHERE {}",
      report_condition);
}

}  // namespace

RollupWriter::RollupWriter(const Database& db, bool multi_row)
    : db_(db),
      find_reporter_(db.prepare("SELECT id FROM reporters WHERE org_name = ?1")),
      insert_span_(db.prepare("INSERT OR IGNORE INTO report_spans (span) VALUES (?1)")),
      find_domain_(db.prepare("SELECT id FROM rollup_domains WHERE name = ?1")),
      find_source_(db.prepare("SELECT id, coalesce(first_end, ?2) FROM rollup_sources WHERE source_ip = ?1")),
      // Tried before find_source_: most sources a batch misses in the cache are new.
      insert_source_(db.prepare("INSERT INTO rollup_sources (source_ip, ip, first_end) VALUES (?1, ?2, ?3) "
                                "ON CONFLICT (source_ip) DO NOTHING")),
      find_profile_(db.prepare(
          "SELECT id FROM rollup_profiles WHERE header_from = ?1 AND dkim_auth = ?2 AND spf_auth = ?3 "
          "AND unaligned_dkim = ?4 AND unaligned_spf = ?5")),
      insert_reporter_(db, "INSERT INTO reporters (org_name) VALUES (?1)"),
      insert_domain_(db, "INSERT INTO rollup_domains (name) VALUES (?1)"),
      update_first_end_(db, "UPDATE rollup_sources SET first_end = ?2 WHERE id = ?1"),
      insert_profile_(db,
          "INSERT INTO rollup_profiles (header_from, dkim_auth, spf_auth, unaligned_dkim, unaligned_spf) "
          "VALUES (?1, ?2, ?3, ?4, ?5)"),
      // One row per statement for an MDA delivery: one statement to prepare.
      upsert_windows_(db, std::string(kWindowInsert), 9, std::string(kWindowConflict),
                      multi_row ? kUpsertChunkRows : 1),
      upsert_months_(db, std::string(kMonthInsert), 10, std::string(kMonthConflict),
                     multi_row ? kUpsertChunkRows : 1),
      windows_of_payload_(db, "SELECT DISTINCT domain, begin_ts, end_ts FROM reports WHERE raw_payload = ?1"),
      delete_window_(db,
          "DELETE FROM source_windows WHERE end_ts = ?3 AND begin_ts = ?2 AND "
          "domain = (SELECT id FROM rollup_domains WHERE name = ?1)"),
      sums_(std::make_unique<Sums>()) {
  // Before the UPSERTs that call it are prepared (on first use).
  sqlite3_create_function_v2(db.get(), "dmarcq_union_ids", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                             union_ids_function, nullptr, nullptr, nullptr);
}

RollupWriter::~RollupWriter() = default;

std::int64_t RollupWriter::dictionary_id(std::unordered_map<std::string, std::int64_t>& cache,
                                         Statement& find, LazyStatement& insert, const std::string& key,
                                         const std::function<void(Statement&)>& bind) {
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  bind(find);
  std::int64_t id = 0;
  if (find.step()) {
    id = find.column_int(0);
    find.reset();
  } else {
    find.reset();
    bind(*insert);
    insert->run();
    id = db_.last_insert_rowid();
  }
  if (cache.size() >= kMaxCachedIds) cache.clear();
  cache.emplace(key, id);
  return id;
}

void RollupWriter::begin_report(std::string_view domain, std::string_view org_name, std::int64_t begin,
                                std::int64_t end) {
  key_.assign(org_name);
  reporter_ = dictionary_id(reporters_, find_reporter_, insert_reporter_, key_,
                            [&](Statement& s) { s.bind(1, org_name); });
  key_.assign(domain);
  domain_ = dictionary_id(domains_, find_domain_, insert_domain_, key_,
                          [&](Statement& s) { s.bind(1, domain); });
  if (spans_.try_emplace(end - begin, true).second) insert_span_.bind(1, end - begin).run();
  begin_ = begin;
  end_ = end;
  month_ = month_of(begin);
}

namespace {
std::pair<std::uint64_t, std::uint64_t> halves_of(std::string_view address) {
  std::uint64_t high = 0, low = 0;
  std::memcpy(&high, address.data(), 8);
  std::memcpy(&low, address.data() + 8, 8);
  return {high, low};
}
}  // namespace

SourceIdCache::Known* SourceIdCache::find(std::string_view address) {
  if (slots_.empty()) return nullptr;
  const auto [high, low] = halves_of(address);
  for (std::size_t i = slot_of(high, low);; i = (i + 1) & (slots_.size() - 1)) {
    Slot& slot = slots_[i];
    if (!slot.used) return nullptr;
    if (slot.high == high && slot.low == low) return &slot.known;
  }
}

SourceIdCache::Known& SourceIdCache::insert(std::string_view address, Known known) {
  if (2 * (size_ + 1) > slots_.size()) {
    if (slots_.size() < kMaxSlots)
      rehash(slots_.empty() ? 64 : 2 * slots_.size());
    else
      clear();
  }
  const auto [high, low] = halves_of(address);
  return place(Slot{high, low, known, true}).known;
}

SourceIdCache::Slot& SourceIdCache::place(const Slot& slot) {
  std::size_t i = slot_of(slot.high, slot.low);
  while (slots_[i].used) i = (i + 1) & (slots_.size() - 1);
  slots_[i] = slot;
  ++size_;
  return slots_[i];
}

void SourceIdCache::clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
  size_ = 0;
}

std::size_t SourceIdCache::slot_of(std::uint64_t high, std::uint64_t low) const {
  // splitmix64's finalizer over both halves: IPv4 sources differ in the low half only.
  std::uint64_t h = high * 0x9e3779b97f4a7c15ULL ^ low;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return static_cast<std::size_t>(h) & (slots_.size() - 1);
}

void SourceIdCache::rehash(std::size_t slots) {
  std::vector<Slot> old(slots);
  old.swap(slots_);
  size_ = 0;
  for (const Slot& slot : old)
    if (slot.used) place(slot);
}

std::int64_t RollupWriter::source_id(std::string_view source_ip, std::string_view ip) {
  const bool is_address = ip.size() == 16;
  SourceIdCache::Known* cached = nullptr;
  if (is_address) {
    cached = address_sources_.find(ip);
  } else {
    key_.assign(source_ip);
    if (auto it = text_sources_.find(key_); it != text_sources_.end()) cached = &it->second;
  }
  if (!cached) {
    SourceIdCache::Known known;
    insert_source_.bind(1, source_ip);
    if (is_address) insert_source_.bind_blob(2, ip.data(), ip.size());
    else insert_source_.bind_null(2);
    insert_source_.bind(3, end_).run();
    // Not RETURNING id: its ephemeral table cost more than asking for the
    // rowid (the connection is the writer's own: nothing inserts between).
    if (sqlite3_changes(db_.get()) == 1) {
      known = {db_.last_insert_rowid(), end_};
    } else {
      find_source_.bind(1, source_ip).bind(2, std::numeric_limits<std::int64_t>::max());
      if (!find_source_.step()) {
        find_source_.reset();
        throw Failure(ErrorKind::database, "rollup_sources: a source neither inserted nor found", std::string(source_ip));
      }
      known = {find_source_.column_int(0), find_source_.column_int(1)};
      find_source_.reset();
    }
    if (is_address) {
      cached = &address_sources_.insert(ip, known);
    } else {
      if (text_sources_.size() >= kMaxCachedIds) text_sources_.clear();
      cached = &text_sources_.emplace(key_, known).first->second;
    }
  }
  if (end_ < cached->first_end) {  // reports imported out of order
    update_first_end_->bind(1, cached->id).bind(2, end_).run();
    cached->first_end = end_;
  }
  return cached->id;
}

std::int64_t RollupWriter::profile_id(const RollupRecord& r) {
  if (r.profile_key.empty()) {
    key_.clear();
    append_profile_key(key_, r.header_from, r.dkim_auth, r.spf_auth, r.unaligned_dkim, r.unaligned_spf);
  } else {
    key_.assign(r.profile_key);
  }
  return dictionary_id(profiles_, find_profile_, insert_profile_, key_, [&](Statement& s) {
    s.bind(1, r.header_from).bind(2, r.dkim_auth).bind(3, r.spf_auth).bind(4, r.unaligned_dkim)
        .bind(5, r.unaligned_spf);
  });
}

void RollupWriter::add_record(const RollupRecord& r) {
  const std::int64_t source = source_id(r.source_ip, r.ip);
  const std::int64_t profile = profile_id(r);
  sums_->windows.push_back({WindowKey{end_, begin_, domain_, source, profile, r.verdict}, reporter_, r.messages,
                            begin_, end_});
  if (stage_months_)
    sums_->months.push_back({MonthKey{month_, domain_, source, profile, r.verdict}, reporter_, r.messages,
                             begin_, end_});
}

RollupRecord rollup_record_of(const Record& record, const EncodedRecord& encoded) {
  RollupRecord r;
  r.source_ip = record.source_ip;
  if (record.source_ip_valid)
    r.ip = std::string_view(reinterpret_cast<const char*>(record.source_ip_key.data()), record.source_ip_key.size());
  r.header_from = record.header_from;
  r.dkim_auth = encoded.dkim_auth;
  r.spf_auth = encoded.spf_auth;
  r.unaligned_dkim = record.verdict.unaligned_dkim_pass_domain;
  r.unaligned_spf = record.verdict.unaligned_spf_pass_domain;
  r.verdict = encoded.verdict;
  r.messages = record.count;
  r.profile_key = encoded.profile_key;
  return r;
}

void RollupWriter::accept() {
  sums_->accepted_windows = sums_->windows.size();
  sums_->accepted_months = sums_->months.size();
  // Written as the batch goes (between inputs, outside any savepoint) rather
  // than all at COMMIT: a long flush there stalls the parse workers once the
  // queue to the writer is full (10,000-email batch: 3.2 -> 2.8 s with the
  // larger queue of run_batch).
  if (sums_->accepted_windows >= kFlushEntries) flush();
}

void RollupWriter::discard() {
  sums_->windows.resize(sums_->accepted_windows);
  sums_->months.resize(sums_->accepted_months);
  // Dictionary rows inserted by the rolled-back input are gone: so are their ids.
  reporters_.clear();
  domains_.clear();
  address_sources_.clear();
  text_sources_.clear();
  profiles_.clear();
  spans_.clear();
}

void RollupWriter::reset() {
  sums_->accepted_windows = sums_->accepted_months = 0;
  sums_->combined_windows.clear();
  sums_->combined_months.clear();
  discard();
}

void RollupWriter::flush() {
  Sums& sums = *sums_;
  sums.windows.resize(sums.accepted_windows);  // nothing is staged at a commit
  sums.months.resize(sums.accepted_months);
  write_combined(sums);
  sums.accepted_windows = sums.accepted_months = 0;
}

void RollupWriter::write_combined(Sums& sums) {
  // Empty even after a flush that threw: nothing of it is written again.
  sums.combined_windows.clear();
  sums.combined_months.clear();
  auto& windows = sums.combined_windows;
  combine(sums.windows, [&windows](const WindowKey& k, std::string_view reporters, std::int64_t messages,
                                   std::int64_t records, std::int64_t, std::int64_t) {
    windows.push_back({k, std::string(reporters), messages, records, 0, 0});
  });
  upsert_windows_.run(windows.size(), [&windows](Statement& s, int at, std::size_t i) {
    const Combined<WindowKey>& w = windows[i];
    s.bind(at, w.key.end).bind(at + 1, w.key.begin).bind(at + 2, w.key.domain).bind(at + 3, w.key.source)
        .bind(at + 4, w.key.profile).bind(at + 5, w.key.verdict).bind_static(at + 6, std::string_view(w.reporters))
        .bind(at + 7, w.messages).bind(at + 8, w.records);
  });
  windows.clear();

  auto& months = sums.combined_months;
  combine(sums.months, [&months](const MonthKey& k, std::string_view reporters, std::int64_t messages,
                                 std::int64_t records, std::int64_t first, std::int64_t last) {
    months.push_back({k, std::string(reporters), messages, records, first, last});
  });
  upsert_months_.run(months.size(), [&months](Statement& s, int at, std::size_t i) {
    const Combined<MonthKey>& m = months[i];
    s.bind(at, m.key.month).bind(at + 1, m.key.domain).bind(at + 2, m.key.source).bind(at + 3, m.key.profile)
        .bind(at + 4, m.key.verdict).bind(at + 5, m.first).bind(at + 6, m.last)
        .bind_static(at + 7, std::string_view(m.reporters)).bind(at + 8, m.messages).bind(at + 9, m.records);
  });
  months.clear();
}

void RollupWriter::add_from_base_tables(std::string_view condition, const std::function<void(Statement&)>& bind,
                                        bool months) {
  Statement s = db_.prepare(base_rows_sql(condition));
  bind(s);
  stage_months_ = months;
  std::int64_t report = -1, rows = 0;
  while (s.step()) {
    if (s.column_int(0) != report) {
      report = s.column_int(0);
      begin_report(text_view(s, 1), text_view(s, 2), s.column_int(3), s.column_int(4));
    }
    Verdict v;
    v.traffic_class = class_from_text(text_view(s, 12));
    v.dkim_aligned = s.column_int(13) != 0;
    v.spf_aligned = s.column_int(14) != 0;
    v.disposition = parse_disposition(text_view(s, 15)).value;
    v.dkim_evaluated = parse_dmarc_result(text_view(s, 16)).value;
    v.spf_evaluated = parse_dmarc_result(text_view(s, 17)).value;
    RollupRecord r;
    r.source_ip = text_view(s, 5);
    r.ip = s.column_blob(6);
    r.header_from = text_view(s, 7);
    r.dkim_auth = text_view(s, 8);
    r.spf_auth = text_view(s, 9);
    r.unaligned_dkim = text_view(s, 10);
    r.unaligned_spf = text_view(s, 11);
    r.verdict = v.pack();
    r.messages = s.column_int(18);
    add_record(r);
    if (++rows % 200'000 == 0) {  // bounds the memory of a full rebuild
      accept();
      flush();
    }
  }
  accept();
  flush();
  stage_months_ = true;
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
  // The caller flushed the batch's sums: the tables are complete but for the
  // staged input, which has not added anything yet.
  std::vector<std::pair<std::int64_t, std::string>> months;  // (month, domain) to recompute
  for (const ReportWindow& w : windows) {
    delete_window_->bind(1, std::string_view(w.domain)).bind(2, w.begin).bind(3, w.end).run();
    add_from_base_tables("rp.domain = ?1 AND rp.begin_ts = ?2 AND rp.end_ts = ?3", [&](Statement& s) {
      s.bind(1, std::string_view(w.domain)).bind(2, w.begin).bind(3, w.end);
    }, false);
    months.emplace_back(month_of(w.begin), w.domain);
  }
  std::sort(months.begin(), months.end());
  months.erase(std::unique(months.begin(), months.end()), months.end());
  Statement span = db_.prepare("SELECT coalesce(max(span), 0) FROM report_spans");
  span.step();
  const std::int64_t max_span = span.column_int(0);
  Statement remove = db_.prepare(
      "DELETE FROM source_months WHERE month = ?1 AND domain = (SELECT id FROM rollup_domains WHERE name = ?2)");
  // A month row sums the window rows whose begin_ts is in that month.
  Statement recompute = db_.prepare(
      "INSERT INTO source_months (month, domain, source, profile, verdict, first_seen, last_seen, reporters, "
      "messages, records) SELECT ?1, domain, source, profile, verdict, min(begin_ts), max(end_ts), "
      "dmarcq_union_ids(group_concat(reporters, '')), sum(messages), sum(records) FROM source_windows "
      "WHERE end_ts >= ?3 AND end_ts <= ?4 + ?5 AND begin_ts >= ?3 AND begin_ts < ?4 "
      "AND domain = (SELECT id FROM rollup_domains WHERE name = ?2) GROUP BY domain, source, profile, verdict");
  for (const auto& [month, domain] : months) {
    remove.bind(1, month).bind(2, std::string_view(domain)).run();
    recompute.bind(1, month).bind(2, std::string_view(domain)).bind(3, month_start(month))
        .bind(4, month_start(month + 1)).bind(5, max_span).run();
  }
}

std::int64_t rebuild_rollups_in_transaction(Database& db) {
  // The dictionaries are kept: another process's writer may hold their ids.
  db.exec("DELETE FROM source_windows");
  db.exec("DELETE FROM source_months");
  db.exec("UPDATE rollup_sources SET first_end = NULL");
  db.exec("DELETE FROM report_spans");
  {
    RollupWriter writer(db, true);
    writer.add_from_base_tables("1", [](Statement&) {}, true);
  }
  Statement count = db.prepare("SELECT count(*) FROM source_windows");
  count.step();
  return count.column_int(0);
}

std::int64_t rebuild_rollups(Database& db) {
  WriteTransaction transaction(db);
  const std::int64_t rows = rebuild_rollups_in_transaction(db);
  transaction.commit();
  return rows;
}

}  // namespace dmarcq::store
