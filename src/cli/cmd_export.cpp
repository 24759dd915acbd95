// `dmarcq export` (every stored report as JSON) and `dmarcq conflicts`.
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "commands.hpp"
#include "dmarcq/text.hpp"
#include "dmarcq/timespec.hpp"
#include "exit_codes.hpp"
#include "report_json.hpp"

namespace dmarcq::cli {

namespace {

struct ExportOptions {
  std::string format = "ndjson";
  std::string kind = "all";
  std::vector<std::string> domains;
  std::string since, until;
};

std::int64_t now_epoch() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<std::int64_t> time_option(const std::string& text, const char* name) {
  if (text.empty()) return std::nullopt;
  auto value = parse_time_spec(text, now_epoch());
  if (!value)
    throw Failure(ErrorKind::usage,
                  fmt::format("--{} {}: expected 7d, 24h, 2026-11-01 or 2026-11-01T12:00:00Z", name,
                              printable(text)));
  return value;
}

std::unique_ptr<Store> open_for_reading(const GlobalOptions& global) {
  return open_sqlite_store(store_options(global, true));
}

int run_export(const GlobalOptions& global, const ExportOptions& options) {
  ReportFilter filter;
  for (const auto& domain : options.domains) filter.domains.push_back(to_lower_ascii(domain));
  filter.since = time_option(options.since, "since");
  filter.until = time_option(options.until, "until");
  auto store = open_for_reading(global);
  const bool array = options.format == "json";
  bool first = true;
  auto emit = [&](const nlohmann::ordered_json& object) {
    const std::string text = object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    if (array && !first) std::fputs(",\n", stdout);
    std::fputs(text.c_str(), stdout);
    if (!array) std::fputc('\n', stdout);
    first = false;
  };
  if (array) std::fputs("[\n", stdout);
  if (options.kind != "failure")
    store->for_each_report(filter, [&](const StoredReport& stored) { emit(report_to_json(stored)); });
  if (options.kind != "aggregate") {
    FailureFilter failures;
    failures.domains = filter.domains;
    failures.since = filter.since;
    failures.until = filter.until;
    store->for_each_failure(failures, [&](const StoredFailure& stored) { emit(failure_to_json(stored)); });
  }
  if (array) std::fputs(first ? "]\n" : "\n]\n", stdout);
  return exit_ok;
}

int run_conflicts(const GlobalOptions& global) {
  auto store = open_for_reading(global);
  const auto conflicts = store->conflicts();
  if (conflicts.empty()) {
    std::printf("no conflicting reports\n");
    return exit_ok;
  }
  for (const ConflictInfo& c : conflicts)
    std::printf("conflict %lld: report %s from \"%s\" for %s (%s .. %s) stored as #%lld; the version "
                "in %s%s%s differs (sha256 %s)\n",
                static_cast<long long>(c.id), printable(c.report_id).c_str(),
                printable(c.org_name).c_str(), printable(c.domain).c_str(),
                format_utc(c.begin).c_str(), format_utc(c.end).c_str(),
                static_cast<long long>(c.existing_report_row), printable(c.source_file).c_str(),
                c.source_member.empty() ? "" : ":", printable(c.source_member).c_str(),
                c.payload_sha256.c_str());
  return exit_ok;
}

}  // namespace

void register_export(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection) {
  auto options = std::make_shared<ExportOptions>();
  CLI::App* command = selection.add(app, "export", "Every stored report as JSON (see README)");
  if (!command) return;
  command->add_option("--format", options->format, "ndjson (one report per line) or json (array)")
      ->check(CLI::IsMember({"ndjson", "json"}))
      ->capture_default_str();
  command->add_option("--kind", options->kind, "aggregate, failure or all (default) reports")
      ->check(CLI::IsMember({"aggregate", "failure", "all"}))
      ->capture_default_str();
  command->add_option("--domain", options->domains, "Only this policy domain (repeatable)");
  command->add_option("--since", options->since, "Reports ending after (7d, 24h, 2026-11-01, ISO 8601)");
  command->add_option("--until", options->until, "Reports beginning before");
  command->callback([&global, options, &run] { run = [&global, options] { return run_export(global, *options); }; });
}

void register_conflicts(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection) {
  CLI::App* command = selection.add(
      app, "conflicts", "Reports that reuse a stored report's key with different content");
  if (!command) return;
  command->callback([&global, &run] { run = [&global] { return run_conflicts(global); }; });
}

}  // namespace dmarcq::cli
