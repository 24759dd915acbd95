// summary, sources / impersonators, timeline: aggregated in C++ over the
// rows of SqliteQueries::scan (one pass, hash maps keyed by domain / source).
#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <span>
#include <unordered_map>

#include <fmt/format.h>

#include "query_store.hpp"

namespace dmarcq::store {

namespace {

// A small set (a source has a handful of header_from / auth domains): a
// vector searched linearly beats a tree.
template <typename T>
struct SmallSet {
  std::vector<T> items;
  template <typename V>
  void add(const V& value) {
    for (const auto& item : items)
      if (item == value) return;
    items.emplace_back(value);
  }
  const std::vector<T>& sorted() {  // in place: the set is reused row after row
    std::sort(items.begin(), items.end());
    return items;
  }
};

void add_class(ClassCounts& counts, TrafficClass traffic_class, std::int64_t messages) {
  switch (traffic_class) {
    case TrafficClass::aligned: counts.aligned += messages; break;
    case TrafficClass::dkim_only: counts.dkim_only += messages; break;
    case TrafficClass::spf_only: counts.spf_only += messages; break;
    case TrafficClass::forwarded: counts.forwarded += messages; break;
    case TrafficClass::misaligned: counts.misaligned += messages; break;
    case TrafficClass::impersonation: counts.impersonation += messages; break;
  }
}

void add_disposition(DispositionCounts& counts, Disposition disposition, std::int64_t messages) {
  switch (disposition) {
    case Disposition::none: counts.none += messages; break;
    case Disposition::quarantine: counts.quarantine += messages; break;
    case Disposition::reject: counts.reject += messages; break;
    default: counts.other += messages; break;
  }
}

void add_counts(ClassCounts& into, const ClassCounts& from) {
  into.aligned += from.aligned;
  into.dkim_only += from.dkim_only;
  into.spf_only += from.spf_only;
  into.forwarded += from.forwarded;
  into.misaligned += from.misaligned;
  into.impersonation += from.impersonation;
}

void add_counts(DispositionCounts& into, const DispositionCounts& from) {
  into.none += from.none;
  into.quarantine += from.quarantine;
  into.reject += from.reject;
  into.other += from.other;
}

template <typename Row>
void apply_limit(std::vector<Row>& rows, const QueryFilter& filter) {
  if (filter.limit && rows.size() > *filter.limit) rows.resize(*filter.limit);
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

// A set of ids that usually holds one: no allocation until a second.
struct IdSet {
  std::int64_t first = -1;
  std::vector<std::int64_t> more;
  void add(std::int64_t id) {
    if (first == id) return;
    if (first < 0) {
      first = id;
      return;
    }
    if (std::find(more.begin(), more.end(), id) == more.end()) more.push_back(id);
  }
  void merge(const IdSet& other) {
    if (other.first >= 0) add(other.first);
    for (const std::int64_t id : other.more) add(id);
  }
  template <typename F>
  void each(F&& f) const {
    if (first >= 0) f(first);
    for (const std::int64_t id : more) f(id);
  }
};

// Reporter or policy domain ids: a bit each below 64 (a site rarely hears
// from more reporters or has more domains), a list above.
struct IdBits {
  std::uint64_t bits = 0;
  std::vector<std::int64_t> more;
  void add(std::int64_t id) {
    if (id >= 0 && id < 64) bits |= std::uint64_t{1} << id;
    else if (std::find(more.begin(), more.end(), id) == more.end()) more.push_back(id);
  }
  void add_text(std::string_view ids) {  // " 3 7 "
    std::int64_t value = 0;
    bool in_number = false;
    for (const char c : ids) {
      if (c >= '0' && c <= '9') {
        value = value * 10 + (c - '0');
        in_number = true;
      } else if (in_number) {
        add(value);
        value = 0;
        in_number = false;
      }
    }
    if (in_number) add(value);
  }
  void merge(const IdBits& other) {
    bits |= other.bits;
    for (const std::int64_t id : other.more) add(id);
  }
  template <typename F>
  void each(F&& f) const {
    for (int id = 0; id < 64; ++id)
      if (bits & (std::uint64_t{1} << id)) f(std::int64_t{id});
    for (const std::int64_t id : more) f(id);
  }
};

// The sums of one source (or network) while scanning: numbers and ids only;
// texts are looked up for the rows that are printed.
// A profile or domain id a source showed besides its first one: recorded
// while scanning, attached (deduplicated) only to the sources printed.
struct ExtraId {
  std::int32_t slot;
  bool domain;
  std::int64_t id;
};

struct SourceAggregate {
  std::int64_t id = 0;  // rollup_sources.id
  std::int32_t slot = 0;  // index into ExtraId::slot
  std::int64_t messages = 0, spf_aligned_pass = 0, spf_aligned_fail = 0, dkim_aligned_pass = 0,
               dkim_aligned_fail = 0, dmarc_pass = 0, disagreements = 0;
  std::int64_t first_seen = 0, last_seen = 0, addresses = 1;
  ClassCounts classes;
  DispositionCounts dispositions;
  IdSet profiles;
  std::int64_t last_extra_profile = -1;  // not recorded twice in a row
  IdBits domains, reporters;
  std::string source, label;
  std::optional<IpAddress> address;
};

// `reporters`: the row's reporter set, parsed when the row was read.
void add_to_source(SourceAggregate& a, const ScanRow& r, const IdBits& reporters, std::vector<ExtraId>& extras) {
  if (a.messages == 0 && a.first_seen == 0) {
    a.first_seen = r.begin;
    a.last_seen = r.end;
  }
  a.first_seen = std::min(a.first_seen, r.begin);
  a.last_seen = std::max(a.last_seen, r.end);
  a.messages += r.messages;
  const Verdict& v = r.verdict;
  (v.spf_aligned ? a.spf_aligned_pass : a.spf_aligned_fail) += r.messages;
  (v.dkim_aligned ? a.dkim_aligned_pass : a.dkim_aligned_fail) += r.messages;
  if (v.dmarc_pass()) a.dmarc_pass += r.messages;
  if (v.receiver_disagrees()) a.disagreements += r.messages;
  add_class(a.classes, v.traffic_class, r.messages);
  add_disposition(a.dispositions, v.disposition, r.messages);
  if (a.profiles.first < 0) {
    a.profiles.first = r.profile;
  } else if (a.profiles.first != r.profile && a.last_extra_profile != r.profile) {
    extras.push_back({a.slot, false, r.profile});
    a.last_extra_profile = r.profile;
  }
  // Most domain ids are bits; extras were 5 million entries for a year.
  if (r.domain >= 0 && r.domain < 64) a.domains.bits |= std::uint64_t{1} << r.domain;
  else extras.push_back({a.slot, true, r.domain});
  a.reporters.merge(reporters);
}

// Fills profiles/domains of the aggregates given from the extras.
void attach_extras(const std::vector<SourceAggregate*>& which, const std::vector<ExtraId>& extras) {
  if (extras.empty()) return;
  std::int32_t max_slot = 0;
  for (const SourceAggregate* a : which) max_slot = std::max(max_slot, a->slot);
  std::vector<SourceAggregate*> by_slot(static_cast<std::size_t>(max_slot) + 1, nullptr);
  for (SourceAggregate* a : which) by_slot[static_cast<std::size_t>(a->slot)] = a;
  auto target = [&](const ExtraId& extra) -> SourceAggregate* {
    return extra.slot > max_slot ? nullptr : by_slot[static_cast<std::size_t>(extra.slot)];
  };
  // The aggregates are read in no useful order: fetched some extras ahead.
  constexpr std::size_t kAhead = 16;
  for (std::size_t i = 0; i < extras.size(); ++i) {
    if (i + 2 * kAhead < extras.size() && extras[i + 2 * kAhead].slot <= max_slot)
      __builtin_prefetch(&by_slot[static_cast<std::size_t>(extras[i + 2 * kAhead].slot)]);
    if (i + kAhead < extras.size())
      if (const SourceAggregate* ahead = target(extras[i + kAhead])) __builtin_prefetch(&ahead->profiles);
    const ExtraId& extra = extras[i];
    SourceAggregate* a = target(extra);
    if (!a) continue;
    if (extra.domain) a->domains.add(extra.id);
    else a->profiles.add(extra.id);
  }
}

// The extras grouped by slot with a counting sort: reading them per printed
// source then costs one memory access, not one per extra (a year's listing
// has 2.5 million, and the aggregates they belong to are 100 MB).
class GroupedExtras {
 public:
  GroupedExtras() = default;
  GroupedExtras(const std::vector<ExtraId>& extras, std::size_t slots) : begin_(slots + 1, 0), items_(extras.size()) {
    for (const ExtraId& extra : extras) ++begin_[static_cast<std::size_t>(extra.slot) + 1];
    for (std::size_t slot = 1; slot < begin_.size(); ++slot) begin_[slot] += begin_[slot - 1];
    std::vector<std::size_t> next(begin_.begin(), begin_.end() - 1);
    for (const ExtraId& extra : extras) items_[next[static_cast<std::size_t>(extra.slot)]++] = extra;
  }
  // For a slot read soon: first where its extras are, then (later) the extras.
  void prefetch_index(std::int32_t slot) const {
    if (static_cast<std::size_t>(slot) + 1 < begin_.size()) __builtin_prefetch(&begin_[static_cast<std::size_t>(slot)]);
  }
  void prefetch_items(std::int32_t slot) const {
    const auto index = static_cast<std::size_t>(slot);
    if (index + 1 < begin_.size() && begin_[index] < items_.size()) __builtin_prefetch(&items_[begin_[index]]);
  }
  [[nodiscard]] std::span<const ExtraId> of(std::int32_t slot) const {
    const auto index = static_cast<std::size_t>(slot);
    if (index + 1 >= begin_.size()) return {};
    return std::span<const ExtraId>(items_).subspan(begin_[index], begin_[index + 1] - begin_[index]);
  }

 private:
  std::vector<std::size_t, HugePageAllocator<std::size_t>> begin_;
  std::vector<ExtraId, HugePageAllocator<ExtraId>> items_;
};

void merge_source(SourceAggregate& a, const SourceAggregate& b) {
  if (a.messages == 0 && a.first_seen == 0) {
    a.first_seen = b.first_seen;
    a.last_seen = b.last_seen;
  }
  a.first_seen = std::min(a.first_seen, b.first_seen);
  a.last_seen = std::max(a.last_seen, b.last_seen);
  a.messages += b.messages;
  a.spf_aligned_pass += b.spf_aligned_pass;
  a.spf_aligned_fail += b.spf_aligned_fail;
  a.dkim_aligned_pass += b.dkim_aligned_pass;
  a.dkim_aligned_fail += b.dkim_aligned_fail;
  a.dmarc_pass += b.dmarc_pass;
  a.disagreements += b.disagreements;
  add_counts(a.classes, b.classes);
  add_counts(a.dispositions, b.dispositions);
  a.profiles.merge(b.profiles);
  a.domains.merge(b.domains);
  a.reporters.merge(b.reporters);
  if (!b.label.empty() && a.label.find(b.label) == std::string::npos)
    a.label += a.label.empty() ? b.label : "," + b.label;
}

template <typename List>
void assign_list(std::vector<std::string_view>& to, const List& from) {
  to.assign(from.begin(), from.end());
}

const char* main_class_of(const ClassCounts& c) {
  const std::pair<std::int64_t, const char*> all[] = {
      {c.aligned, "aligned"},       {c.dkim_only, "dkim-only"},   {c.spf_only, "spf-only"},
      {c.forwarded, "forwarded"},   {c.misaligned, "misaligned"}, {c.impersonation, "impersonation"}};
  const auto* best = &all[0];
  for (const auto& entry : all)
    if (entry.first > best->first) best = &entry;
  return best->second;
}

// Days since 1970-01-01 -> (year, month) (Howard Hinnant's civil_from_days).
std::pair<int, int> year_month(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
  return {year, month};
}

std::int64_t days_from_civil(int y, int m) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5;  // first day of the month
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::vector<SummaryRow> SqliteQueries::summary(const QueryFilter& filter) {
  std::map<std::string, SummaryRow, std::less<>> by_domain;
  auto row_of = [&](std::string_view domain) -> SummaryRow& {
    auto it = by_domain.find(domain);
    if (it == by_domain.end()) {
      it = by_domain.emplace(std::string(domain), SummaryRow{}).first;
      it->second.domain = std::string(domain);
    }
    return it->second;
  };

  // Reports, reporters and published policies from the reports themselves.
  int next = 1;
  std::string sql =
      "SELECT rp.domain, rp.org_name, rp.begin_ts, rp.end_ts, coalesce(rp.p, ''), coalesce(rp.sp, ''), "
      "coalesce(rp.adkim, ''), coalesce(rp.aspf, ''), rp.pct FROM reports rp WHERE 1" +
      report_conditions(filter, "rp", next);
  if (filter.ip)
    sql += fmt::format(" AND EXISTS (SELECT 1 FROM records r WHERE r.report = rp.id AND r.ip BETWEEN ?{} AND ?{})",
                       next, next + 1);
  sql += " ORDER BY rp.begin_ts, rp.id";
  Statement s = db_.prepare(sql);
  int bind = 1;
  bind_report_conditions(s, filter, bind);
  if (filter.ip) {
    s.bind_blob(bind, filter.ip->first.bytes.data(), 16);
    s.bind_blob(bind + 1, filter.ip->last.bytes.data(), 16);
  }
  std::map<std::string, std::set<std::string>> reporters;
  while (s.step()) {
    SummaryRow& row = row_of(s.column_text(0));
    if (row.reports == 0) row.first_seen = s.column_int(2);
    ++row.reports;
    row.first_seen = std::min(row.first_seen, s.column_int(2));
    row.last_seen = std::max(row.last_seen, s.column_int(3));
    reporters[row.domain].insert(s.column_text(1));
    // The policy in effect, written without the tags that say RFC 7489's
    // default (sp = p, adkim = aspf = r, pct = 100): reporters that print
    // every tag and reporters that print only p would otherwise look like
    // policy changes.
    const std::string p = s.column_text(4), sp = s.column_text(5), adkim = s.column_text(6),
                      aspf = s.column_text(7);
    const std::optional<std::int64_t> pct =
        s.column_is_null(8) || s.column_int(8) == 100 ? std::nullopt : std::optional<std::int64_t>(s.column_int(8));
    const std::string policy = describe_policy(p, sp == p ? "" : sp, adkim == "r" || adkim == "relaxed" ? "" : adkim,
                                               aspf == "r" || aspf == "relaxed" ? "" : aspf, pct);
    if (row.policies.empty() || row.policies.back().policy != policy) {
      // A change (or a return to an earlier policy) starts a new entry.
      row.policies.push_back({policy, s.column_int(2), 0});
    }
    ++row.policies.back().reports;
  }
  for (auto& [domain, names] : reporters) by_domain[domain].reporters = static_cast<std::int64_t>(names.size());

  // Per domain id first: one map lookup per domain, not per row.
  std::unordered_map<std::int64_t, SummaryRow> by_id;
  scan(filter, {}, false, true, [&](const ScanRow& r) {
    SummaryRow& row = by_id[r.domain];
    const Verdict& v = r.verdict;
    row.messages += r.messages;
    if (v.dmarc_pass()) row.dmarc_pass += r.messages;
    if (v.spf_aligned) row.spf_aligned += r.messages;
    if (v.dkim_aligned) row.dkim_aligned += r.messages;
    if (v.receiver_disagrees()) row.disagreements += r.messages;
    add_disposition(row.dispositions, v.disposition, r.messages);
    add_class(row.classes, v.traffic_class, r.messages);
  });
  for (const auto& [id, sums] : by_id) {
    const auto name = domain_names().find(id);
    if (name == domain_names().end()) continue;
    SummaryRow& row = row_of(name->second);
    row.messages += sums.messages;
    row.dmarc_pass += sums.dmarc_pass;
    row.spf_aligned += sums.spf_aligned;
    row.dkim_aligned += sums.dkim_aligned;
    row.disagreements += sums.disagreements;
    add_counts(row.dispositions, sums.dispositions);
    add_counts(row.classes, sums.classes);
  }

  std::vector<SummaryRow> rows;
  for (auto& [domain, row] : by_domain)
    if (row.messages >= filter.min_count) rows.push_back(std::move(row));
  if (filter.sort == "messages")
    std::stable_sort(rows.begin(), rows.end(),
                     [](const SummaryRow& a, const SummaryRow& b) { return a.messages > b.messages; });
  else if (filter.sort == "pass")
    std::stable_sort(rows.begin(), rows.end(), [](const SummaryRow& a, const SummaryRow& b) {
      return a.dmarc_pass * std::max<std::int64_t>(b.messages, 1) < b.dmarc_pass * std::max<std::int64_t>(a.messages, 1);
    });
  apply_limit(rows, filter);
  return rows;
}

std::size_t SqliteQueries::each_source(const QueryFilter& filter, const SourceQuery& query,
                                      const std::function<void(const SourceRow&)>& emit) {
  // A full listing that reaches more than an eighth of rollup_sources prints
  // most of it: from then on, its texts are read on a second connection
  // while the scan goes on. (A listing that ends up short after all stops
  // it: a lookup per source is cheaper. Short ones, like --new-since 1d,
  // never start it.)
  std::optional<SourceNamesReader> all_names;

  // Aggregated per rollup_sources.id: a dense index, no hashing per row.
  std::vector<std::int32_t> slot_of;
  std::vector<SourceAggregate, HugePageAllocator<SourceAggregate>> by_source;
  std::vector<ExtraId> extras;
  const bool impersonators = query.mode == SourceMode::impersonators;
  std::vector<TrafficClass> classes;
  if (impersonators) {
    classes.push_back(TrafficClass::impersonation);
    if (query.include_misaligned) classes.push_back(TrafficClass::misaligned);
  }
  std::int64_t max_source_id = 0;
  {
    Statement count = db_.prepare("SELECT coalesce(max(id), 0) FROM rollup_sources");
    count.step();
    max_source_id = count.column_int(0);
    const auto ids = static_cast<std::size_t>(std::max<std::int64_t>(max_source_id, 0)) + 1;
    slot_of.assign(ids, -1);
    by_source.reserve(std::min<std::size_t>(ids, 1 << 22));  // address space only until used
  }
  // Rows are handled in groups so that the memory reads of a group overlap:
  // the sums of a year's sources do not fit in the CPU caches, and waiting
  // for each in turn was most of the query's time.
  struct Buffered {
    ScanRow row;
    IdBits reporters;
    std::int32_t* slot = nullptr;
  };
  constexpr std::size_t kGroup = 32;
  std::array<Buffered, kGroup> group;
  std::size_t buffered = 0;
  auto process = [&] {
    for (std::size_t i = 0; i < buffered; ++i) {
      const auto id = static_cast<std::size_t>(group[i].row.source);
      if (id >= slot_of.size()) slot_of.resize(std::max(id + 1, slot_of.size() * 2), -1);
    }
    for (std::size_t i = 0; i < buffered; ++i) {
      group[i].slot = &slot_of[static_cast<std::size_t>(group[i].row.source)];
      __builtin_prefetch(group[i].slot);
    }
    for (std::size_t i = 0; i < buffered; ++i) {
      std::int32_t& slot = *group[i].slot;
      if (slot < 0) {
        slot = static_cast<std::int32_t>(by_source.size());
        SourceAggregate& added = by_source.emplace_back();
        added.id = group[i].row.source;
        added.slot = slot;
        if (!filter.limit && !all_names && !few_sources(by_source.size(), max_source_id)) all_names.emplace(options_);
      }
      const char* entry = reinterpret_cast<const char*>(&by_source[static_cast<std::size_t>(slot)]);
      __builtin_prefetch(entry);
      __builtin_prefetch(entry + 64);
      __builtin_prefetch(entry + 128);
    }
    for (std::size_t i = 0; i < buffered; ++i) {
      add_to_source(by_source[static_cast<std::size_t>(*group[i].slot)], group[i].row, group[i].reporters, extras);
    }
    buffered = 0;
  };
  scan(filter, classes, true, true, [&](const ScanRow& r) {
    if (r.source < 0) return;
    Buffered& b = group[buffered++];
    b.row = r;
    b.row.reporters = {};  // valid during the callback only: parsed now
    b.reporters.bits = 0;
    b.reporters.more.clear();
    b.reporters.add_text(r.reporters);
    if (buffered == kGroup) process();
  });
  process();
  slot_of = {};

  if (query.mode == SourceMode::failing)
    std::erase_if(by_source, [](const SourceAggregate& a) {
      return a.spf_aligned_fail == 0 && a.dkim_aligned_fail == 0;
    });
  // Allow-list labels through the address index: the senders' ranges hold
  // few of the sources, and most sources need no address at all.
  if (!filter.known.empty()) {
    std::unordered_map<std::int64_t, std::string> labels;
    Statement in_range = db_.prepare("SELECT id FROM rollup_sources WHERE ip BETWEEN ?1 AND ?2");
    for (const KnownSender& sender : filter.known) {
      in_range.bind_blob(1, sender.range.first.bytes.data(), 16).bind_blob(2, sender.range.last.bytes.data(), 16);
      while (in_range.step()) labels.try_emplace(in_range.column_int(0), sender.label);
      in_range.reset();
    }
    if (!labels.empty())
      for (SourceAggregate& a : by_source)
        if (const auto it = labels.find(a.id); it != labels.end()) a.label = it->second;
  }
  // Impersonators never lists the owner's own senders.
  if (impersonators) std::erase_if(by_source, [](const SourceAggregate& a) { return !a.label.empty(); });

  if (impersonators && query.new_since) {
    // New: no report containing the source (any class) ended at or before new_since.
    // (first_end is kept over all policy domains.)
    const std::string sql = "SELECT 1 FROM rollup_sources WHERE id = ?1 AND first_end <= ?2";
    Statement seen = db_.prepare(sql);
    std::erase_if(by_source, [&](const SourceAggregate& a) {
      seen.bind(1, a.id).bind(2, *query.new_since);
      const bool old = seen.step();
      seen.reset();
      return old;
    });
  }

  // Text and address of each aggregate's source.
  auto names_of = [this, &all_names, max_source_id](const std::vector<SourceAggregate*>& which) {
    std::vector<std::int64_t> ids;
    ids.reserve(which.size());
    std::int64_t max_id = 0;
    for (const SourceAggregate* a : which) {
      if (a->id < 0) continue;
      ids.push_back(a->id);
      max_id = std::max(max_id, a->id);
    }
    SourceNames names;
    if (all_names && !few_sources(ids.size(), max_source_id)) {
      names = all_names->take();
      // That connection may have read an older snapshot than the scan's:
      // sources added since are looked up here.
      if (names.by_id.size() <= static_cast<std::size_t>(max_id)) names.by_id.resize(static_cast<std::size_t>(max_id) + 1);
      std::erase_if(ids, [&names](std::int64_t id) { return names.by_id[static_cast<std::size_t>(id)].found; });
    } else {
      all_names.reset();
      names.by_id.resize(static_cast<std::size_t>(max_id) + 1);
    }
    if (!ids.empty())
      sources_of(ids, [&names](std::int64_t id, std::string_view text, const std::optional<IpAddress>& address) {
        names.add(id, text, address);
      });
    return names;
  };
  auto all_of = [](auto& aggregates) {
    std::vector<SourceAggregate*> all;
    all.reserve(aggregates.size());
    for (SourceAggregate& a : aggregates) all.push_back(&a);
    return all;
  };

  if (query.by_network) {
    auto all = all_of(by_source);
    const SourceNames names = names_of(all);
    for (SourceAggregate* a : all) {
      if (a->id < 0) continue;
      const SourceNames::Entry& entry = names.by_id[static_cast<std::size_t>(a->id)];
      a->source = names.text(entry);
      if (entry.has_address) a->address = entry.address;
    }
    attach_extras(all, extras);
    std::unordered_map<std::string, std::size_t> index;
    std::vector<SourceAggregate, HugePageAllocator<SourceAggregate>> networks;
    for (SourceAggregate& a : by_source) {
      std::string network = a.address ? network_of(*a.address, query.v4_prefix, query.v6_prefix) : a.source;
      auto [it, added] = index.try_emplace(network, networks.size());
      if (added) {
        SourceAggregate& n = networks.emplace_back();
        n.source = std::move(network);
        n.addresses = 0;
        if (const auto range = parse_cidr(n.source)) n.address = range->first;
      }
      SourceAggregate& n = networks[it->second];
      n.addresses += 1;
      merge_source(n, a);
    }
    by_source = std::move(networks);
  }
  std::erase_if(by_source, [&](const SourceAggregate& a) { return a.messages < filter.min_count; });

  // Numeric keys descending, then by address for a stable order. With
  // --limit only the rows that can be printed (the key of the last one
  // included) need their address.
  const std::string& sort = filter.sort;
  auto key_of = [&sort](const SourceAggregate& a) -> std::int64_t {
    if (sort == "first-seen") return -a.first_seen;
    if (sort == "last-seen") return a.last_seen;
    if (sort == "failing") return a.messages - a.dmarc_pass;
    if (sort == "source") return 0;
    return a.messages;
  };
  std::vector<std::pair<std::int64_t, SourceAggregate*>> keyed;
  keyed.reserve(by_source.size());
  for (SourceAggregate& a : by_source) keyed.emplace_back(key_of(a), &a);
  const std::size_t shown = filter.limit ? std::min(*filter.limit, keyed.size()) : keyed.size();
  SourceNames names;
  if (!query.by_network) {
    if (shown < keyed.size() && shown > 0) {
      auto by_key = [](const auto& x, const auto& y) { return x.first > y.first; };
      std::nth_element(keyed.begin(), keyed.begin() + static_cast<std::ptrdiff_t>(shown - 1), keyed.end(), by_key);
      const std::int64_t last_key = keyed[shown - 1].first;
      std::erase_if(keyed, [last_key](const auto& k) { return k.first < last_key; });
    }
    std::vector<SourceAggregate*> which;
    which.reserve(keyed.size());
    for (const auto& k : keyed) which.push_back(k.second);
    names = names_of(which);
  }
  // Sorted with the address inline (as two big-endian integers) and a view
  // of the text: comparing through the pointers missed the caches at every
  // step of a 150,000-row sort.
  struct Ordered {
    std::int64_t key;
    bool has_address;
    std::uint64_t high, low;
    std::string_view source;
    SourceAggregate* aggregate;
  };
  auto big_endian = [](const std::uint8_t* bytes) {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = (value << 8) | bytes[i];
    return value;
  };
  std::vector<Ordered> order;
  order.reserve(keyed.size());
  for (const auto& [key, a] : keyed) {
    Ordered& o = order.emplace_back(Ordered{key, false, 0, 0, a->source, a});
    const IpAddress* address = a->address ? &*a->address : nullptr;
    if (!query.by_network && a->id >= 0) {
      const SourceNames::Entry& entry = names.by_id[static_cast<std::size_t>(a->id)];
      o.source = names.text(entry);
      address = entry.has_address ? &entry.address : nullptr;
    }
    if (address) {
      o.has_address = true;
      o.high = big_endian(address->bytes.data());
      o.low = big_endian(address->bytes.data() + 8);
    }
  }
  keyed = {};
  auto before = [](const Ordered& x, const Ordered& y) {
    if (x.key != y.key) return x.key > y.key;
    if (x.has_address != y.has_address) return x.has_address;
    if (x.high != y.high) return x.high < y.high;
    if (x.low != y.low) return x.low < y.low;
    return x.source < y.source;
  };
  if (shown >= order.size())
    std::sort(order.begin(), order.end(), before);  // partial_sort of everything is a slower heap sort
  else
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(), before);
  order.resize(std::min(shown, order.size()));
  // (--by network attached them before merging the addresses.)
  GroupedExtras grouped;
  if (!query.by_network) {
    std::size_t slots = 0;
    for (const ExtraId& extra : extras) slots = std::max(slots, static_cast<std::size_t>(extra.slot) + 1);
    grouped = GroupedExtras(extras, slots);
    extras = {};
  }

  // Failure reports of the same sources.
  const auto failures = failure_counts(filter);
  // Each reporter's place in the order of the names: a row's reporters are
  // listed by name, and sorting small integers per row is cheaper than names.
  std::vector<std::pair<std::string_view, std::int64_t>> reporters_by_name;
  for (const auto& [id, name] : reporter_names()) reporters_by_name.emplace_back(name, id);
  std::sort(reporters_by_name.begin(), reporters_by_name.end());
  std::unordered_map<std::int64_t, std::size_t> reporter_rank;
  for (std::size_t rank = 0; rank < reporters_by_name.size(); ++rank)
    reporter_rank.emplace(reporters_by_name[rank].second, rank);
  std::vector<std::size_t> low_reporter_rank(64, reporters_by_name.size());  // ids below 64, without hashing
  for (const auto& [id, rank] : reporter_rank)
    if (id >= 0 && id < 64) low_reporter_rank[static_cast<std::size_t>(id)] = rank;

  // One row object for every row: its vectors keep their capacity.
  SourceRow row;
  SmallSet<std::string_view> header_from, dkim, spf, unaligned, domains;
  SmallSet<std::int64_t> profile_ids;
  std::vector<std::size_t> ranks;
  for (std::size_t i = 0; i < order.size(); ++i) {
    // The aggregates are read in the printed order, not where they lie: fetch
    // them, then where their extras are, then the extras, some rows ahead.
    if (i + 16 < order.size()) {
      const char* ahead = reinterpret_cast<const char*>(order[i + 16].aggregate);
      for (int line = 0; line < 6; ++line) __builtin_prefetch(ahead + 64 * line);
    }
    if (i + 8 < order.size()) {
      grouped.prefetch_index(order[i + 8].aggregate->slot);
      __builtin_prefetch(order[i + 8].source.data());
      __builtin_prefetch(order[i + 8].source.data() + order[i + 8].source.size() - 1);
    }
    if (i + 4 < order.size()) grouped.prefetch_items(order[i + 4].aggregate->slot);
    SourceAggregate& a = *order[i].aggregate;
    row.source = order[i].source;
    row.addresses = a.addresses;
    row.label = a.label;
    row.messages = a.messages;
    row.spf_aligned_pass = a.spf_aligned_pass;
    row.spf_aligned_fail = a.spf_aligned_fail;
    row.dkim_aligned_pass = a.dkim_aligned_pass;
    row.dkim_aligned_fail = a.dkim_aligned_fail;
    row.dmarc_pass = a.dmarc_pass;
    row.disagreements = a.disagreements;
    row.classes = a.classes;
    row.dispositions = a.dispositions;
    row.first_seen = a.first_seen;
    row.last_seen = a.last_seen;
    row.main_class = main_class_of(a.classes);
    profile_ids.items.clear();
    a.profiles.each([&](std::int64_t id) { profile_ids.add(id); });
    for (const ExtraId& extra : grouped.of(a.slot)) {
      if (extra.domain) a.domains.add(extra.id);
      else profile_ids.add(extra.id);
    }
    if (profile_ids.items.size() <= 1) {
      // One profile (most sources): its lists are sorted already.
      const Profile& p = profile_ids.items.empty() ? Profile::none() : profile(profile_ids.items.front());
      assign_list(row.header_from, p.header_from);
      assign_list(row.dkim_domains, p.dkim_domains);
      assign_list(row.spf_domains, p.spf_domains);
      assign_list(row.unaligned_domains, p.unaligned_domains);
    } else {
      for (auto* set : {&header_from, &dkim, &spf, &unaligned}) set->items.clear();
      for (const std::int64_t id : profile_ids.items) {
        const Profile& p = profile(id);
        for (const auto& word : p.header_from) header_from.add(std::string_view(word));
        for (const auto& word : p.dkim_domains) dkim.add(std::string_view(word));
        for (const auto& word : p.spf_domains) spf.add(std::string_view(word));
        for (const auto& word : p.unaligned_domains) unaligned.add(std::string_view(word));
      }
      assign_list(row.header_from, header_from.sorted());
      assign_list(row.dkim_domains, dkim.sorted());
      assign_list(row.spf_domains, spf.sorted());
      assign_list(row.unaligned_domains, unaligned.sorted());
    }
    domains.items.clear();
    a.domains.each([&](std::int64_t id) {
      if (const auto it = domain_names().find(id); it != domain_names().end()) domains.add(std::string_view(it->second));
    });
    assign_list(row.domains, domains.sorted());
    ranks.clear();
    a.reporters.each([&](std::int64_t id) {
      if (id >= 0 && id < 64) {
        if (const std::size_t rank = low_reporter_rank[static_cast<std::size_t>(id)]; rank < reporters_by_name.size())
          ranks.push_back(rank);
      } else if (const auto it = reporter_rank.find(id); it != reporter_rank.end()) {
        ranks.push_back(it->second);
      }
    });
    std::sort(ranks.begin(), ranks.end());
    row.reporters.clear();
    for (const std::size_t rank : ranks) row.reporters.push_back(reporters_by_name[rank].first);
    row.failure_reports = 0;
    if (!failures.empty()) {
      if (const auto range = parse_cidr(row.source))
        for (auto it = failures.lower_bound(range->first.bytes); it != failures.end() && it->first <= range->last.bytes;
             ++it)
          row.failure_reports += it->second;
    }
    emit(row);
  }
  return order.size();
}

void SourceNames::add(std::int64_t id, std::string_view text, const std::optional<IpAddress>& address) {
  if (id < 0) return;
  if (static_cast<std::size_t>(id) >= by_id.size()) by_id.resize(static_cast<std::size_t>(id) + 1);
  Entry& entry = by_id[static_cast<std::size_t>(id)];
  entry.text_begin = texts.size();
  entry.text_size = text.size();
  texts += text;
  entry.found = true;
  entry.has_address = address.has_value();
  if (address) entry.address = *address;
}

SourceNamesReader::SourceNamesReader(const StoreOptions& options)
    : thread_([this, options](std::stop_token stop) {
        try {
          read(options, stop);
        } catch (...) {
          error_ = std::current_exception();
        }
      }) {}

SourceNames SourceNamesReader::take() {
  thread_.join();
  if (error_) std::rethrow_exception(error_);
  return std::move(names_);
}

void SourceNamesReader::read(const StoreOptions& options, const std::stop_token& stop) {
  Database db(options.path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
  db.exec("PRAGMA mmap_size = 4294967296");
  Statement count = db.prepare("SELECT coalesce(max(id), 0) FROM rollup_sources");
  count.step();
  names_.by_id.reserve(static_cast<std::size_t>(std::max<std::int64_t>(count.column_int(0), 0)) + 1);
  Statement s = db.prepare("SELECT id, source_ip, ip FROM rollup_sources");
  while (!stop.stop_requested() && s.step()) {
    std::optional<IpAddress> address;
    if (const std::string_view key = s.column_blob(2); key.size() == 16) {
      address.emplace();
      std::copy(key.begin(), key.end(), address->bytes.begin());
    }
    names_.add(s.column_int(0), s.column_blob(1), address);  // blob: the text's bytes, not copied
  }
}

std::map<std::array<std::uint8_t, 16>, std::int64_t> SqliteQueries::failure_counts(const QueryFilter& filter) {
  std::string sql = "SELECT ip, count(*) FROM failure_reports WHERE ip IS NOT NULL";
  int next = 1;
  sql += in_clause("reported_domain", filter.domains.size(), next);
  if (filter.since) sql += " AND coalesce(arrival_date, ingested_at) >= ?" + std::to_string(next++);
  if (filter.until) sql += " AND coalesce(arrival_date, ingested_at) < ?" + std::to_string(next++);
  sql += " GROUP BY ip";
  Statement statement = db_.prepare(sql);
  int index = 1;
  for (const auto& domain : filter.domains) statement.bind(index++, std::string_view(domain));
  if (filter.since) statement.bind(index++, *filter.since);
  if (filter.until) statement.bind(index++, *filter.until);
  std::map<std::array<std::uint8_t, 16>, std::int64_t> counts;
  while (statement.step()) {
    const std::string_view key = statement.column_blob(0);
    if (key.size() != 16) continue;
    std::array<std::uint8_t, 16> bytes{};
    std::copy(key.begin(), key.end(), bytes.begin());
    counts[bytes] = statement.column_int(1);
  }
  return counts;
}

std::vector<TimelineRow> SqliteQueries::timeline(const QueryFilter& filter, Period period) {
  std::map<std::int64_t, TimelineRow> by_period;
  scan(filter, {}, false, false, [&](const ScanRow& r) {
    // A report counts on the UTC day of its window's midpoint.
    const std::int64_t day = floor_div(r.begin + (r.end - r.begin) / 2, 86400);
    std::int64_t start_day = day;
    if (period == Period::week) start_day = day - (((day + 3) % 7) + 7) % 7;  // Monday
    else if (period == Period::month) {
      const auto [year, month] = year_month(day);
      start_day = days_from_civil(year, month);
    }
    TimelineRow& row = by_period[start_day * 86400];
    row.start = start_day * 86400;
    row.messages += r.messages;
    add_class(row.classes, r.verdict.traffic_class, r.messages);
  });
  std::vector<TimelineRow> rows;
  for (auto& [start, row] : by_period)
    if (row.messages >= filter.min_count) rows.push_back(row);
  if (filter.sort == "messages")
    std::stable_sort(rows.begin(), rows.end(),
                     [](const TimelineRow& a, const TimelineRow& b) { return a.messages > b.messages; });
  apply_limit(rows, filter);
  return rows;
}

}  // namespace dmarcq::store
