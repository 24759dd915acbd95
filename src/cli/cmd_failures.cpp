// `dmarcq failures` (failure/forensic reports, newest first) and
// `dmarcq show-failure ID` (every stored field of one).
#include <cstdio>

#include <fmt/format.h>

#include "commands.hpp"
#include "dmarcq/ip.hpp"
#include "dmarcq/normalize.hpp"
#include "dmarcq/text.hpp"
#include "dmarcq/timespec.hpp"
#include "exit_codes.hpp"
#include "output_format.hpp"
#include "query_options.hpp"
#include "report_json.hpp"

namespace dmarcq::cli {

namespace {

struct FailuresOptions {
  QueryOptions query;  // --format, --no-color
  std::vector<std::string> domains;
  std::string since, until, ip;
  std::int64_t limit = 0;
  std::int64_t id = 0;
};

std::unique_ptr<Store> open_store(const GlobalOptions& global) {
  return open_sqlite_store(store_options(global, true));
}

std::string join(const std::vector<std::string>& values, const char* separator = ", ") {
  std::string out;
  for (const auto& value : values) out += (out.empty() ? "" : separator) + value;
  return out;
}

// The reporter: the carrying message's From, else the Reporting-MTA.
std::string reporter_of(const FailureReport& r) {
  if (r.mail_from) return *r.mail_from;
  return r.reporting_mta.value_or("");
}

int run_failures(const GlobalOptions& global, const FailuresOptions& options) {
  FailureFilter filter;
  const std::int64_t now = now_epoch_seconds();
  for (const auto& domain : options.domains) filter.domains.push_back(normalize_domain(domain));
  if (!options.since.empty()) filter.since = parse_time_spec(options.since, now);
  if (!options.until.empty()) filter.until = parse_time_spec(options.until, now);
  if (!options.ip.empty()) {
    const auto range = parse_cidr(options.ip);
    filter.ip_first = range->first.bytes;
    filter.ip_last = range->last.bytes;
  }
  if (options.limit > 0) filter.limit = options.limit;
  auto store = open_store(global);

  Table table({"id", "arrival_date", "source_ip", "reported_domain", "from", "subject", "auth_failure",
               "dkim_domain", "dkim_selector", "reporter", "machine_readable"},
              {"ID", "ARRIVED (UTC)", "SOURCE IP", "DOMAIN", "FROM", "SUBJECT", "FAILED", "DKIM DOMAIN",
               "SELECTOR", "REPORTER", "MACHINE READABLE"});
  table.hide_in_table("machine_readable");
  store->for_each_failure(filter, [&](const StoredFailure& stored) {
    const FailureReport& r = stored.report;
    std::vector<std::string> failures;
    for (const auto& failure : r.auth_failures) failures.emplace_back(failure.text());
    table.row().integer(stored.id);
    if (r.arrival_date) table.text(format_utc(*r.arrival_date));
    else table.null();
    if (r.source_ip) table.text(r.source_ip->ip);
    else table.null();
    table.text(r.reported_domains.empty() ? "" : r.reported_domains.front());
    table.text(r.original.from.value_or(r.original_mail_from.value_or("")));
    table.text(r.original.subject.value_or(""));
    table.list(failures);
    table.list(r.dkim_domains);
    table.text(r.dkim_selector.value_or(""));
    table.text(reporter_of(r));
    table.integer(r.machine_readable ? 1 : 0);
  });
  if (table.size() == 0 && output_format(options.query) == OutputFormat::table) {
    std::fprintf(stderr, "dmarcq: no failure reports%s%s\n",
                 filter.domains.empty() ? "" : " for ", printable(join(filter.domains)).c_str());
    return exit_ok;
  }
  table.write(stdout, output_format(options.query), use_color(options.query));
  return exit_ok;
}

void print_field(const char* name, const std::string& value) {
  if (value.empty()) return;
  std::printf("%-28s %s\n", name, printable(value).c_str());
}
void print_field(const char* name, const std::optional<std::string>& value) {
  if (value) print_field(name, *value);
}

int run_show_failure(const GlobalOptions& global, const FailuresOptions& options) {
  auto store = open_store(global);
  const auto stored = store->failure(options.id);
  if (!stored) throw Failure(ErrorKind::usage, fmt::format("no failure report #{}", options.id));
  if (output_format(options.query) == OutputFormat::json) {
    std::printf("%s\n", failure_to_json(*stored).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
    return exit_ok;
  }
  const FailureReport& r = stored->report;
  std::vector<std::string> failures;
  for (const auto& failure : r.auth_failures) failures.emplace_back(failure.text());
  print_field("Failure report", fmt::format("#{}{}", stored->id, r.machine_readable ? "" : " (no machine-readable part: recovered from the text)"));
  print_field("Feedback-Type", std::string(r.feedback_type.text()));
  print_field("User-Agent", r.user_agent);
  print_field("Version", r.version);
  print_field("Arrival-Date", r.arrival_date ? format_utc(*r.arrival_date) : r.arrival_date_text.value_or(""));
  print_field("Source-IP", r.source_ip ? r.source_ip->ip + (r.source_ip->hostname ? " (" + *r.source_ip->hostname + ")" : "") : "");
  print_field("Source-Port", r.source_port ? std::to_string(*r.source_port) : "");
  print_field("Reported-Domain", join(r.reported_domains));
  print_field("Reported-URI", join(r.reported_uris));
  print_field("Auth-Failure", join(failures));
  print_field("Identity-Alignment", r.identity_alignment ? r.identity_alignment->text : "");
  print_field("Delivery-Result", std::string(r.delivery_result.text()));
  print_field("Original-Mail-From", r.original_mail_from);
  print_field("Original-Rcpt-To", join(r.original_rcpt_to));
  print_field("Original-Envelope-Id", r.original_envelope_id);
  print_field("Reporting-MTA", r.reporting_mta);
  print_field("Incidents", r.incidents ? std::to_string(*r.incidents) : "");
  for (const auto& result : r.authentication_results) print_field("Authentication-Results", result);
  print_field("DKIM-Domain", join(r.dkim_domains));
  print_field("DKIM-Identity", r.dkim_identity);
  print_field("DKIM-Selector", r.dkim_selector);
  print_field("DKIM-Selector-DNS", r.dkim_selector_dns);
  print_field("DKIM-Canonicalized-Header", r.dkim_canonicalized_header);
  print_field("DKIM-Canonicalized-Body", r.dkim_canonicalized_body);
  for (const auto& record : r.spf_dns) print_field("SPF-DNS", record);
  for (const auto& field : r.extra_fields) print_field(field.name.c_str(), field.value);
  const OriginalMessage& o = r.original;
  print_field("Original From", o.from);
  print_field("Original To", o.to);
  print_field("Original Subject", o.subject);
  print_field("Original Date", o.date);
  print_field("Original Message-ID", o.message_id);
  for (const auto& result : o.authentication_results) print_field("Original Auth-Results", result);
  for (const auto& signature : o.dkim_signatures)
    print_field("Original DKIM-Signature", "d=" + signature.domain + " s=" + signature.selector);
  print_field("Report From", r.mail_from);
  print_field("Report Subject", r.mail_subject);
  print_field("Report Date", r.mail_date);
  print_field("Report Message-ID", r.mail_message_id);
  print_field("Stored from", stored->source_file);
  print_field("Original body", o.body ? fmt::format("{} bytes (kept with --keep-bodies)", o.body->size()) : "not kept");
  if (!o.headers.empty()) std::printf("\nOriginal headers:\n%s\n", printable_multiline(o.headers).c_str());
  return exit_ok;
}

}  // namespace

void register_failures(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection) {
  auto options = std::make_shared<FailuresOptions>();
  if (CLI::App* list = selection.add(app, "failures", "Failure (forensic) reports, newest first")) {
    list->add_option("--domain", options->domains, "Only this Reported-Domain (repeatable)")->option_text("D");
    list->add_option("--since", options->since, "Arrived since (7d, 24h, 2026-11-01, ISO 8601)")
        ->check(time_spec_validator());
    list->add_option("--until", options->until, "Arrived before")->check(time_spec_validator());
    list->add_option("--ip", options->ip, "Only this Source-IP address or network")
        ->check(CLI::Validator([](std::string& value) -> std::string {
          return parse_cidr(value) ? "" : "expected an address or CIDR, not " + printable(value);
        }, "ADDR|CIDR"));
    list->add_option("--limit", options->limit, "At most N reports")->check(CLI::NonNegativeNumber);
    add_format_options(*list, options->query);
    list->callback([&global, options, &run] { run = [&global, options] { return run_failures(global, *options); }; });
  }
  if (CLI::App* show = selection.add(app, "show-failure", "Every stored field of one failure report")) {
    show->add_option("id", options->id, "The report's ID (see `dmarcq failures`)")->required();
    add_format_options(*show, options->query);
    show->callback(
        [&global, options, &run] { run = [&global, options] { return run_show_failure(global, *options); }; });
  }
}

}  // namespace dmarcq::cli
