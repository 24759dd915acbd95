// summary, sources / impersonators, timeline: aggregated in C++ over the
// rows of SqliteQueries::scan (one pass, hash maps keyed by domain / source).
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "query_store.hpp"

namespace dmarcq::store {

namespace {

// A small set (a source has a handful of header_from / auth domains): a
// vector searched linearly beats a tree for the millions of rows a year has.
template <typename T>
struct SmallSet {
  std::vector<T> items;
  template <typename V>
  void add(const V& value) {
    for (const auto& item : items)
      if (item == value) return;
    items.emplace_back(value);
  }
  void merge(const SmallSet& other) {
    for (const auto& item : other.items) add(item);
  }
  [[nodiscard]] std::vector<T> sorted() const {
    std::vector<T> copy = items;
    std::sort(copy.begin(), copy.end());
    return copy;
  }
};

// Splits a ' '-separated list into a set.
void add_words(SmallSet<std::string>& into, std::string_view words) {
  if (words.empty()) return;
  if (words.find(' ') == std::string_view::npos) {
    into.add(words);
    return;
  }
  while (!words.empty()) {
    const auto space = words.find(' ');
    const std::string_view word = words.substr(0, space);
    if (!word.empty()) into.add(word);
    if (space == std::string_view::npos) break;
    words.remove_prefix(space + 1);
  }
}

void add_ids(SmallSet<std::int64_t>& into, std::string_view ids) {
  std::int64_t value = 0;
  bool in_number = false;
  for (const char c : ids) {
    if (c >= '0' && c <= '9') {
      value = value * 10 + (c - '0');
      in_number = true;
    } else if (in_number) {
      into.add(value);
      value = 0;
      in_number = false;
    }
  }
  if (in_number) into.add(value);
}

template <typename Row>
void apply_limit(std::vector<Row>& rows, const QueryFilter& filter) {
  if (filter.limit && rows.size() > *filter.limit) rows.resize(*filter.limit);
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

struct SourceAggregate {
  SourceRow row;
  std::optional<IpAddress> address;
  SmallSet<std::string> header_from, dkim, spf, domains, unaligned;
  SmallSet<std::int64_t> reporters;
};

void add_to_source(SourceAggregate& a, const ScanRow& r) {
  SourceRow& row = a.row;
  if (row.messages == 0 && row.first_seen == 0) {
    row.first_seen = r.begin;
    row.last_seen = r.end;
  }
  row.first_seen = std::min(row.first_seen, r.begin);
  row.last_seen = std::max(row.last_seen, r.end);
  row.messages += r.messages;
  (r.spf_aligned ? row.spf_aligned_pass : row.spf_aligned_fail) += r.messages;
  (r.dkim_aligned ? row.dkim_aligned_pass : row.dkim_aligned_fail) += r.messages;
  if (r.dmarc_pass()) row.dmarc_pass += r.messages;
  if (r.receiver_disagrees()) row.disagreements += r.messages;
  row.classes.add(r.traffic_class, r.messages);
  row.dispositions.add(r.disposition, r.messages);
  add_words(a.header_from, r.header_from);
  add_words(a.dkim, r.dkim_auth);
  add_words(a.spf, r.spf_auth);
  add_words(a.domains, r.domain);
  add_words(a.unaligned, r.unaligned_dkim);
  add_words(a.unaligned, r.unaligned_spf);
  add_ids(a.reporters, r.reporters);
}

void merge_source(SourceAggregate& into, const SourceAggregate& from) {
  SourceRow& a = into.row;
  const SourceRow& b = from.row;
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
  a.classes.aligned += b.classes.aligned;
  a.classes.dkim_only += b.classes.dkim_only;
  a.classes.spf_only += b.classes.spf_only;
  a.classes.forwarded += b.classes.forwarded;
  a.classes.misaligned += b.classes.misaligned;
  a.classes.impersonation += b.classes.impersonation;
  a.dispositions.none += b.dispositions.none;
  a.dispositions.quarantine += b.dispositions.quarantine;
  a.dispositions.reject += b.dispositions.reject;
  a.dispositions.other += b.dispositions.other;
  into.header_from.merge(from.header_from);
  into.dkim.merge(from.dkim);
  into.spf.merge(from.spf);
  into.domains.merge(from.domains);
  into.unaligned.merge(from.unaligned);
  into.reporters.merge(from.reporters);
  if (!b.label.empty() && a.label.find(b.label) == std::string::npos)
    a.label += a.label.empty() ? b.label : "," + b.label;
}

std::string main_class_of(const ClassCounts& c) {
  const std::pair<std::int64_t, const char*> all[] = {
      {c.aligned, "aligned"},       {c.dkim_only, "dkim-only"},   {c.spf_only, "spf-only"},
      {c.forwarded, "forwarded"},   {c.misaligned, "misaligned"}, {c.impersonation, "impersonation"}};
  const auto* best = &all[0];
  for (const auto& entry : all)
    if (entry.first > best->first) best = &entry;
  return best->second;
}

const KnownSender* known_sender(const QueryFilter& filter, const std::optional<IpAddress>& ip) {
  if (!ip) return nullptr;
  for (const KnownSender& sender : filter.known)
    if (sender.range.contains(*ip)) return &sender;
  return nullptr;
}

std::optional<IpAddress> address_of(std::string_view key) {
  if (key.size() != 16) return std::nullopt;
  IpAddress ip;
  std::copy(key.begin(), key.end(), ip.bytes.begin());
  return ip;
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
    const std::string policy = describe_policy(
        s.column_text(4), s.column_text(5), s.column_text(6), s.column_text(7),
        s.column_is_null(8) ? std::nullopt : std::optional<std::int64_t>(s.column_int(8)));
    if (row.policies.empty() || row.policies.back().policy != policy) {
      // A change (or a return to an earlier policy) starts a new entry.
      row.policies.push_back({policy, s.column_int(2), 0});
    }
    ++row.policies.back().reports;
  }
  for (auto& [domain, names] : reporters) by_domain[domain].reporters = static_cast<std::int64_t>(names.size());

  scan(filter, {}, false, [&](const ScanRow& r) {
    SummaryRow& row = row_of(r.domain);
    row.messages += r.messages;
    if (r.dmarc_pass()) row.dmarc_pass += r.messages;
    if (r.spf_aligned) row.spf_aligned += r.messages;
    if (r.dkim_aligned) row.dkim_aligned += r.messages;
    if (r.receiver_disagrees()) row.disagreements += r.messages;
    row.dispositions.add(r.disposition, r.messages);
    row.classes.add(r.traffic_class, r.messages);
  });

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

std::vector<SourceRow> SqliteQueries::sources(const QueryFilter& filter, const SourceQuery& query) {
  std::unordered_map<std::string, SourceAggregate, StringHash, std::equal_to<>> by_ip;
  std::unordered_map<std::string, bool, StringHash, std::equal_to<>> skip;  // impersonators: allow-listed
  const bool impersonators = query.mode == SourceMode::impersonators;
  std::vector<std::string_view> classes;
  if (impersonators) {
    classes.push_back("impersonation");
    if (query.include_misaligned) classes.push_back("misaligned");
  }
  scan(filter, classes, true, [&](const ScanRow& r) {
    auto it = by_ip.find(r.source_ip);
    if (it == by_ip.end()) {
      if (impersonators) {
        if (skip.find(r.source_ip) != skip.end()) return;
        if (known_sender(filter, address_of(r.ip))) {
          skip.emplace(std::string(r.source_ip), true);
          return;
        }
      }
      it = by_ip.emplace(std::string(r.source_ip), SourceAggregate{}).first;
      it->second.row.source = std::string(r.source_ip);
      it->second.address = address_of(r.ip);
      if (const KnownSender* known = known_sender(filter, it->second.address))
        it->second.row.label = known->label;
    }
    add_to_source(it->second, r);
  });

  if (query.mode == SourceMode::failing)
    std::erase_if(by_ip, [](const auto& entry) {
      return entry.second.row.spf_aligned_fail == 0 && entry.second.row.dkim_aligned_fail == 0;
    });

  if (impersonators && query.new_since) {
    // New: no report containing the source (any class) ended at or before
    // new_since. Looked up through records_ip; a source that is not an IP
    // address cannot be looked up and counts as new.
    std::string sql =
        "SELECT 1 FROM records r JOIN reports rp ON rp.id = r.report WHERE r.ip = ?1 AND rp.end_ts <= ?2";
    int next = 3;
    if (!filter.domains.empty()) {
      sql += " AND rp.domain IN (";
      for (std::size_t i = 0; i < filter.domains.size(); ++i) sql += fmt::format("{}?{}", i ? ", " : "", next++);
      sql += ")";
    }
    sql += " LIMIT 1";
    Statement seen = db_.prepare(sql);
    std::erase_if(by_ip, [&](const auto& entry) {
      if (!entry.second.address) return false;
      seen.bind_blob(1, entry.second.address->bytes.data(), 16).bind(2, *query.new_since);
      int bind = 3;
      for (const auto& domain : filter.domains) seen.bind(bind++, std::string_view(domain));
      const bool old = seen.step();
      seen.reset();
      return old;
    });
  }

  std::vector<SourceAggregate> groups;
  if (query.by_network) {
    std::unordered_map<std::string, SourceAggregate> by_network;
    for (auto& [ip, aggregate] : by_ip) {
      const std::string network =
          aggregate.address ? network_of(*aggregate.address, query.v4_prefix, query.v6_prefix) : ip;
      auto [it, added] = by_network.try_emplace(network);
      if (added) {
        it->second.row.source = network;
        it->second.row.addresses = 0;
      }
      it->second.row.addresses += 1;
      merge_source(it->second, aggregate);
    }
    for (auto& [network, aggregate] : by_network) groups.push_back(std::move(aggregate));
  } else {
    for (auto& [ip, aggregate] : by_ip) groups.push_back(std::move(aggregate));
  }

  const auto& names = reporter_names();
  std::vector<SourceRow> rows;
  rows.reserve(groups.size());
  for (SourceAggregate& a : groups) {
    SourceRow& row = a.row;
    if (row.messages < filter.min_count) continue;
    row.main_class = main_class_of(row.classes);
    row.header_from = a.header_from.sorted();
    row.dkim_domains = a.dkim.sorted();
    row.spf_domains = a.spf.sorted();
    row.domains = a.domains.sorted();
    row.unaligned_domains = a.unaligned.sorted();
    for (const std::int64_t id : a.reporters.items)
      if (auto it = names.find(id); it != names.end()) row.reporters.push_back(it->second);
    std::sort(row.reporters.begin(), row.reporters.end());
    rows.push_back(std::move(row));
  }

  // Link to the failure reports of the same sources.
  const auto failures = failure_counts(filter);
  if (!failures.empty()) {
    for (SourceRow& row : rows) {
      const auto range = parse_cidr(row.source);
      if (!range) continue;
      for (auto it = failures.lower_bound(range->first.bytes);
           it != failures.end() && it->first <= range->last.bytes; ++it)
        row.failure_reports += it->second;
    }
  }

  // Numeric keys descending, then by address (parsed once) for a stable order.
  struct Keyed {
    std::int64_t key = 0;
    std::optional<IpAddress> address;
    SourceRow* row = nullptr;
  };
  const std::string& sort = filter.sort;
  std::vector<Keyed> keyed;
  keyed.reserve(rows.size());
  for (SourceRow& row : rows) {
    Keyed k;
    k.row = &row;
    if (const auto range = parse_cidr(row.source)) k.address = range->first;
    if (sort == "first-seen") k.key = -row.first_seen;
    else if (sort == "last-seen") k.key = row.last_seen;
    else if (sort == "failing") k.key = row.messages - row.dmarc_pass;
    else if (sort != "source") k.key = row.messages;
    keyed.push_back(std::move(k));
  }
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    if (a.key != b.key) return a.key > b.key;
    if (a.address.has_value() != b.address.has_value()) return a.address.has_value();
    if (a.address && *a.address != *b.address) return *a.address < *b.address;
    return a.row->source < b.row->source;
  });
  std::vector<SourceRow> sorted;
  sorted.reserve(keyed.size());
  for (const Keyed& k : keyed) sorted.push_back(std::move(*k.row));
  rows = std::move(sorted);
  apply_limit(rows, filter);
  return rows;
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
  scan(filter, {}, false, [&](const ScanRow& r) {
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
    row.classes.add(r.traffic_class, r.messages);
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
