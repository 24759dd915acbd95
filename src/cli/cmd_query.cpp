// `dmarcq summary`, `sources`, `impersonators`, `timeline`: the daily
// questions. The store aggregates (include/dmarcq/query.hpp); this file only
// turns rows into tables.
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include <fmt/format.h>

#include "commands.hpp"
#include "dmarcq/text.hpp"
#include "dmarcq/timespec.hpp"
#include "exit_codes.hpp"
#include "query_options.hpp"

namespace dmarcq::cli {

namespace {

double percent(std::int64_t part, std::int64_t whole) {
  if (whole <= 0) return 0.0;
  return std::round(1000.0 * static_cast<double>(part) / static_cast<double>(whole)) / 10.0;
}

// "aligned:7", "impersonation:2", ... into `parts`, reusing its strings (once per printed source).
void class_breakdown(const ClassCounts& c, std::vector<std::string>& parts) {
  std::size_t used = 0;
  auto add = [&parts, &used](const char* name, std::int64_t n) {
    if (n <= 0) return;
    if (used == parts.size()) parts.emplace_back();
    std::string& part = parts[used++];
    part.assign(name).append(":").append(std::to_string(n));
  };
  add("aligned", c.aligned);
  add("dkim-only", c.dkim_only);
  add("spf-only", c.spf_only);
  add("forwarded", c.forwarded);
  add("misaligned", c.misaligned);
  add("impersonation", c.impersonation);
  parts.resize(used);
}

// format_utc_date() once per day: a listing prints two dates per row.
class DateTexts {
 public:
  const std::string& of(std::int64_t epoch) {
    const std::int64_t day = epoch / 86400 - (epoch % 86400 < 0 ? 1 : 0);
    auto [it, added] = by_day_.try_emplace(day);
    if (added) it->second = format_utc_date(epoch);
    return it->second;
  }

 private:
  std::unordered_map<std::int64_t, std::string> by_day_;
};

// Which aligned mechanism failed for some of the source's messages.
const char* failing_mechanisms(const SourceRow& row) {
  if (row.spf_aligned_fail > 0 && row.dkim_aligned_fail > 0) return "spf+dkim";
  if (row.spf_aligned_fail > 0) return "spf";
  if (row.dkim_aligned_fail > 0) return "dkim";
  return "";
}

struct SourceOptions {
  QueryOptions common;
  bool failing = false;
  bool include_misaligned = false;
  bool exit_status = false;
  std::string by;
  std::string new_since;
  int v4_prefix = 24, v6_prefix = 48;
};

int run_summary(const GlobalOptions& global, const QueryOptions& options) {
  const QueryFilter filter = make_filter(options);
  auto queries = open_queries(global);
  const auto rows = queries->summary(filter);
  Table table({"domain", "reports", "reporters", "messages", "dmarc_pass_pct", "spf_aligned_pct",
               "dkim_aligned_pct", "none", "quarantine", "reject", "aligned", "dkim_only", "spf_only",
               "forwarded", "misaligned", "impersonation", "receiver_disagrees", "policy", "first_seen",
               "last_seen"},
              {"domain", "reports", "reporters", "messages", "pass%", "spf%", "dkim%", "none", "quar",
               "reject", "aligned", "dkim-only", "spf-only", "fwd", "misaligned", "imperson", "disagree",
               "policy", "first", "last"});
  table.hide_in_table("first_seen").hide_in_table("last_seen");
  for (const SummaryRow& r : rows) {
    std::vector<std::string> policies;
    for (const PolicySeen& p : r.policies)
      policies.push_back(r.policies.size() == 1 ? p.policy
                                                : fmt::format("{} (from {})", p.policy, format_utc_date(p.first_seen)));
    table.row().text(r.domain).integer(r.reports).integer(r.reporters).integer(r.messages);
    table.number(percent(r.dmarc_pass, r.messages)).number(percent(r.spf_aligned, r.messages));
    table.number(percent(r.dkim_aligned, r.messages));
    table.integer(r.dispositions.none).integer(r.dispositions.quarantine).integer(r.dispositions.reject);
    table.integer(r.classes.aligned).integer(r.classes.dkim_only).integer(r.classes.spf_only);
    table.integer(r.classes.forwarded).integer(r.classes.misaligned).integer(r.classes.impersonation);
    table.integer(r.disagreements).list(policies);
    if (r.reports > 0) table.text(format_utc(r.first_seen)).text(format_utc(r.last_seen));
    else table.null().null();
  }
  print_result(table, options, *queries, filter, "messages");
  return exit_ok;
}

SourceQuery source_query(const SourceOptions& options, SourceMode mode) {
  SourceQuery query;
  query.mode = mode;
  query.include_misaligned = options.include_misaligned;
  query.by_network = options.by == "network";
  query.v4_prefix = options.v4_prefix;
  query.v6_prefix = options.v6_prefix;
  return query;
}

int run_sources(const GlobalOptions& global, const SourceOptions& options) {
  const QueryFilter filter = make_filter(options.common);
  auto queries = open_queries(global);
  const SourceQuery query = source_query(options, options.failing ? SourceMode::failing : SourceMode::all);
  const bool network = options.by == "network";
  Table table({"source", "addresses", "label", "messages", "dmarc_pass", "spf_aligned_pass",
               "spf_aligned_fail", "dkim_aligned_pass", "dkim_aligned_fail", "failing", "class",
               "classes", "none", "quarantine", "reject", "receiver_disagrees", "header_from",
               "dkim_domains", "spf_domains", "unaligned_pass_domains", "reporters", "domains",
               "first_seen", "last_seen", "failure_reports"},
              {network ? "network" : "source", "ips", "label", "messages", "pass", "spf ok", "spf fail",
               "dkim ok", "dkim fail", "failing", "class", "classes", "none", "quar", "reject", "disagree",
               "header_from", "dkim (d/s)", "spf", "unaligned pass", "reporters", "domains", "first", "last",
               "ruf"});
  if (!network) table.hide_in_table("addresses");
  table.hide_in_table("classes").hide_in_table("dmarc_pass").hide_in_table("domains");
  table.hide_in_table("first_seen").hide_in_table("unaligned_pass_domains");
  std::vector<std::string> classes;
  DateTexts dates;
  print_rows(table, options.common, *queries, filter, options.failing ? "failing sources" : "sources",
             [&](RowSink& out) {
               queries->each_source(filter, query, [&](const SourceRow& r) {
                 class_breakdown(r.classes, classes);
                 out.row().text(r.source).integer(r.addresses).text(r.label).integer(r.messages);
                 out.integer(r.dmarc_pass).integer(r.spf_aligned_pass).integer(r.spf_aligned_fail);
                 out.integer(r.dkim_aligned_pass).integer(r.dkim_aligned_fail);
                 out.text(failing_mechanisms(r)).text(r.main_class).list(classes);
                 out.integer(r.dispositions.none).integer(r.dispositions.quarantine);
                 out.integer(r.dispositions.reject).integer(r.disagreements);
                 out.list(r.header_from).list(r.dkim_domains).list(r.spf_domains);
                 out.list(r.unaligned_domains).list(r.reporters).list(r.domains);
                 out.text(dates.of(r.first_seen)).text(dates.of(r.last_seen));
                 out.integer(r.failure_reports);
               });
             });
  return exit_ok;
}

int run_impersonators(const GlobalOptions& global, const SourceOptions& options) {
  QueryFilter filter = make_filter(options.common);
  SourceQuery query = source_query(options, SourceMode::impersonators);
  if (!options.new_since.empty()) {
    query.new_since = parse_time_spec(options.new_since, now_epoch_seconds());
    if (!filter.since || *filter.since < *query.new_since) filter.since = query.new_since;
  }
  auto queries = open_queries(global);
  const bool network = options.by == "network";
  Table table({"source", "addresses", "messages", "class", "none", "quarantine", "reject", "stopped_pct",
               "header_from", "unaligned_pass_domains", "reporters", "domains", "first_seen", "last_seen",
               "failure_reports"},
              {network ? "network" : "source", "ips", "messages", "class", "none", "quar", "reject",
               "stopped%", "header_from", "passed as", "reporters", "domains", "first", "last", "ruf"});
  if (!network) table.hide_in_table("addresses");
  if (!options.include_misaligned) table.hide_in_table("unaligned_pass_domains");
  table.hide_in_table("domains");
  DateTexts dates;
  const std::size_t rows = print_rows(
      table, options.common, *queries, filter, query.new_since ? "new impersonators" : "impersonators",
      [&](RowSink& out) {
        queries->each_source(filter, query, [&](const SourceRow& r) {
          const bool misaligned = r.classes.misaligned > 0;
          const char* marked = r.classes.impersonation > 0 && misaligned ? "impersonation+misaligned"
                               : misaligned                              ? "misaligned"
                                                                         : "impersonation";
          out.row().text(r.source).integer(r.addresses).integer(r.messages).text(marked);
          out.integer(r.dispositions.none).integer(r.dispositions.quarantine).integer(r.dispositions.reject);
          out.number(percent(r.dispositions.quarantine + r.dispositions.reject, r.messages));
          out.list(r.header_from).list(r.unaligned_domains).list(r.reporters).list(r.domains);
          out.text(dates.of(r.first_seen)).text(dates.of(r.last_seen));
          out.integer(r.failure_reports);
        });
      });
  if (options.exit_status) return rows == 0 ? exit_ok : exit_found;
  return exit_ok;
}

struct TimelineOptions {
  QueryOptions common;
  std::string by = "day";
};

std::string period_label(std::int64_t start, Period period) {
  const std::string date = format_utc_date(start);
  if (period == Period::month) return date.substr(0, 7);
  return date;
}

// One line per period: a bar scaled to the largest period, one symbol per class group.
void print_chart(const std::vector<TimelineRow>& rows, Period period, bool color) {
  std::int64_t largest = 0;
  for (const auto& r : rows) largest = std::max(largest, r.messages);
  if (largest == 0) return;
  constexpr int kWidth = 50;
  std::printf("\n");
  for (const auto& r : rows) {
    const std::int64_t groups[4] = {r.classes.aligned + r.classes.dkim_only + r.classes.spf_only,
                                    r.classes.forwarded, r.classes.misaligned, r.classes.impersonation};
    const char symbols[4] = {'=', '~', 'm', 'X'};
    const char* colors[4] = {"\x1b[32m", "\x1b[36m", "\x1b[33m", "\x1b[31m"};
    std::string bar;
    double carried = 0;
    for (int g = 0; g < 4; ++g) {
      const double exact = kWidth * static_cast<double>(groups[g]) / static_cast<double>(largest) + carried;
      int cells = static_cast<int>(exact);
      if (cells == 0 && groups[g] > 0) cells = 1;
      carried = exact - cells;
      if (cells <= 0) continue;
      if (color) bar += colors[g];
      bar += std::string(static_cast<std::size_t>(cells), symbols[g]);
      if (color) bar += "\x1b[0m";
    }
    std::printf("%-10s |%s %lld\n", period_label(r.start, period).c_str(), bar.c_str(),
                static_cast<long long>(r.messages));
  }
  std::printf("%-10s  = pass  ~ forwarded  m misaligned  X impersonation\n", "");
}

int run_timeline(const GlobalOptions& global, const TimelineOptions& options) {
  const QueryFilter filter = make_filter(options.common);
  const Period period = options.by == "week" ? Period::week : options.by == "month" ? Period::month : Period::day;
  auto queries = open_queries(global);
  const auto rows = queries->timeline(filter, period);
  Table table({"period", "messages", "dmarc_pass_pct", "aligned", "dkim_only", "spf_only", "forwarded",
               "misaligned", "impersonation"},
              {options.by, "messages", "pass%", "aligned", "dkim-only", "spf-only", "fwd", "misaligned",
               "imperson"});
  for (const auto& r : rows) {
    const auto& c = r.classes;
    table.row().text(period_label(r.start, period)).integer(r.messages);
    table.number(percent(c.aligned + c.dkim_only + c.spf_only, r.messages));
    table.integer(c.aligned).integer(c.dkim_only).integer(c.spf_only).integer(c.forwarded);
    table.integer(c.misaligned).integer(c.impersonation);
  }
  print_result(table, options.common, *queries, filter, "messages");
  if (!rows.empty() && output_format(options.common) == OutputFormat::table && stdout_is_terminal())
    print_chart(rows, period, use_color(options.common));
  return exit_ok;
}

void add_source_options(CLI::App& command, SourceOptions& options) {
  command.add_option("--by", options.by, "Group sources: network (IPv4 /24, IPv6 /48 by default)")
      ->check(CLI::IsMember({"ip", "network"}));
  command.add_option("--v4-prefix", options.v4_prefix, "IPv4 prefix length for --by network")
      ->check(CLI::Range(0, 32))
      ->capture_default_str();
  command.add_option("--v6-prefix", options.v6_prefix, "IPv6 prefix length for --by network")
      ->check(CLI::Range(0, 128))
      ->capture_default_str();
}

}  // namespace

void register_queries(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection) {
  if (CLI::App* command = selection.add(
          app, "summary", "Per policy domain: reports, messages, pass rates, dispositions, classes, policy")) {
    auto options = std::make_shared<QueryOptions>();
    add_query_options(*command, *options, {"domain", "messages", "pass"});
    command->callback([&global, options, &run] { run = [&global, options] { return run_summary(global, *options); }; });
  }
  if (CLI::App* command = selection.add(
          app, "sources", "Per source IP: messages, SPF/DKIM alignment pass/fail, class, domains, reporters")) {
    auto options = std::make_shared<SourceOptions>();
    add_query_options(*command, options->common, {"messages", "failing", "source", "first-seen", "last-seen"});
    command->add_flag("--failing", options->failing,
                      "Only sources with a message that failed SPF or DKIM alignment");
    add_source_options(*command, *options);
    command->callback([&global, options, &run] { run = [&global, options] { return run_sources(global, *options); }; });
  }
  if (CLI::App* command = selection.add(
          app, "impersonators", "Sources that sent in your name with nothing passing (class impersonation)")) {
    auto options = std::make_shared<SourceOptions>();
    add_query_options(*command, options->common, {"messages", "source", "first-seen", "last-seen"});
    command->add_flag("--include-misaligned", options->include_misaligned,
                      "Also sources whose SPF/DKIM passed for an unaligned domain (marked misaligned)");
    command->add_option("--new-since", options->new_since,
                        "Only sources first seen in this window (no earlier report had them)")
        ->check(time_spec_validator());
    command->add_flag("--exit-status", options->exit_status, "Exit 1 when anything is listed, 0 when nothing");
    add_source_options(*command, *options);
    command->callback([&global, options, &run] { run = [&global, options] { return run_impersonators(global, *options); }; });
  }
  if (CLI::App* command = selection.add(app, "timeline", "Messages per day, week or month, split by class")) {
    auto options = std::make_shared<TimelineOptions>();
    add_query_options(*command, options->common, {"time", "messages"});
    command->add_option("--by", options->by, "day, week (from Monday) or month")
        ->check(CLI::IsMember({"day", "week", "month"}))
        ->capture_default_str();
    command->callback([&global, options, &run] { run = [&global, options] { return run_timeline(global, *options); }; });
  }
  register_query_reports(app, global, run, selection);
}

}  // namespace dmarcq::cli
