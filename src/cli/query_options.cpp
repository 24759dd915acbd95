#include "query_options.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include <fmt/format.h>

#include "allow_list.hpp"
#include "dmarcq/normalize.hpp"
#include "dmarcq/text.hpp"
#include "dmarcq/timespec.hpp"

namespace dmarcq::cli {

std::int64_t now_epoch_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CLI::Validator time_spec_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (parse_time_spec(value, now_epoch_seconds())) return {};
        return "expected 7d, 24h, 2026-11-01, 2026-11-01T12:00:00Z or @EPOCH, not " + printable(value);
      },
      "TIME");
}

namespace {

CLI::Validator cidr_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (parse_cidr(value)) return {};
        return "expected an address or CIDR (192.0.2.0/24, 2001:db8::/48), not " + printable(value);
      },
      "ADDR|CIDR");
}

}  // namespace

void add_format_options(CLI::App& command, QueryOptions& options) {
  command.add_option("--format", options.format, "table (default), csv (RFC 4180), tsv or json (array of objects)")
      ->check(CLI::IsMember({"table", "csv", "tsv", "json"}))
      ->capture_default_str();
  command.add_flag("--no-color", options.no_color, "No colour in table output (also $NO_COLOR)");
}

void add_query_options(CLI::App& command, QueryOptions& options, const std::vector<std::string>& sorts) {
  command.add_option("--domain", options.domains, "Only this policy domain (repeatable)")->option_text("D");
  command.add_option("--since", options.since, "Reports ending after (7d, 24h, 2026-11-01, ISO 8601, @EPOCH)")
      ->check(time_spec_validator());
  command.add_option("--until", options.until, "Reports beginning before")->check(time_spec_validator());
  command.add_option("--reporter", options.reporter, "Only reports from this org_name")->option_text("ORG");
  command.add_option("--ip", options.ip, "Only this source address or network")->check(cidr_validator());
  command.add_option("--min-count", options.min_count, "Drop rows with fewer messages")
      ->check(CLI::NonNegativeNumber)
      ->option_text("N");
  command.add_option("--limit", options.limit, "At most N rows")->check(CLI::PositiveNumber)->option_text("N");
  if (!sorts.empty())
    command.add_option("--sort", options.sort, "Order: " + [&sorts] {
      std::string all;
      for (const auto& s : sorts) all += (all.empty() ? "" : "|") + s;
      return all + " (default " + sorts.front() + ")";
    }())->check(CLI::IsMember(sorts));
  command.add_option("--allow-list", options.allow_list,
                     "Own senders file (`CIDR label` lines; default $DMARCQ_ALLOW_LIST, else "
                     "$XDG_CONFIG_HOME/dmarcq/senders; `none` for none)")
      ->option_text("FILE");
  add_format_options(command, options);
}

QueryFilter make_filter(const QueryOptions& options) {
  QueryFilter filter;
  const std::int64_t now = now_epoch_seconds();
  for (const auto& domain : options.domains) filter.domains.push_back(normalize_domain(domain));
  if (!options.since.empty()) filter.since = parse_time_spec(options.since, now);
  if (!options.until.empty()) filter.until = parse_time_spec(options.until, now);
  if (!options.reporter.empty()) filter.reporter = options.reporter;
  if (!options.ip.empty()) filter.ip = parse_cidr(options.ip);
  filter.min_count = options.min_count;
  if (options.limit > 0) filter.limit = static_cast<std::size_t>(options.limit);
  filter.sort = options.sort;
  filter.known = load_allow_list(options.allow_list);
  return filter;
}

std::unique_ptr<Queries> open_queries(const GlobalOptions& global) {
  return open_sqlite_queries(store_options(global, true));
}

OutputFormat output_format(const QueryOptions& options) {
  return parse_output_format(options.format).value_or(OutputFormat::table);
}

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

bool use_color(const QueryOptions& options) {
  if (options.no_color || output_format(options) != OutputFormat::table) return false;
  if (const char* no_color = std::getenv("NO_COLOR"); no_color && *no_color) return false;
  return stdout_is_terminal();
}

std::string describe_scope(const QueryFilter& filter) {
  std::string text;
  if (!filter.domains.empty()) {
    text += " for ";
    for (std::size_t i = 0; i < filter.domains.size(); ++i) text += (i ? ", " : "") + filter.domains[i];
  }
  if (filter.reporter) text += " from " + *filter.reporter;
  if (filter.ip) text += " from source " + filter.ip->first.to_string() + ".." + filter.ip->last.to_string();
  if (filter.since) text += " since " + format_utc(*filter.since);
  if (filter.until) text += " until " + format_utc(*filter.until);
  return printable(text);
}

namespace {

// "dmarcq: no reports for ..." when the period has no report at all, else "no <what> for ...".
void note_empty(Queries& queries, const QueryFilter& filter, const std::string& what) {
  QueryFilter any = filter;
  any.limit = 1;
  any.min_count = 0;
  any.sort.clear();
  const bool no_reports = queries.reports(any).empty();
  std::fprintf(stderr, "dmarcq: no %s%s\n", no_reports ? "reports" : what.c_str(), describe_scope(filter).c_str());
}

}  // namespace

void print_result(const Table& table, const QueryOptions& options, Queries& queries,
                  const QueryFilter& filter, const std::string& what) {
  const OutputFormat format = output_format(options);
  if (table.size() == 0) {
    note_empty(queries, filter, what);
    if (format == OutputFormat::table) return;
  }
  table.write(stdout, format, use_color(options));
}

std::size_t print_rows(Table& layout, const QueryOptions& options, Queries& queries, const QueryFilter& filter,
                       const std::string& what, const std::function<void(RowSink&)>& produce) {
  const OutputFormat format = output_format(options);
  if (format == OutputFormat::table) {
    produce(layout);
    print_result(layout, options, queries, filter, what);
    return layout.size();
  }
  RowStream stream(stdout, format, layout.keys());
  produce(stream);
  if (stream.rows() == 0) note_empty(queries, filter, what);
  stream.finish();
  return stream.rows();
}

}  // namespace dmarcq::cli
