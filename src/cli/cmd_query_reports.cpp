// `dmarcq reports`, `show REPORT`, `sql "SELECT ..."`, `db rebuild-rollups`.
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "dmarcq/text.hpp"
#include "dmarcq/timespec.hpp"
#include "exit_codes.hpp"
#include "query_options.hpp"

namespace dmarcq::cli {

namespace {

double percent_of(std::int64_t part, std::int64_t whole) {
  if (whole <= 0) return 0.0;
  return static_cast<double>(static_cast<std::int64_t>(1000.0 * static_cast<double>(part) / static_cast<double>(whole) + 0.5)) / 10.0;
}

int run_reports(const GlobalOptions& global, const QueryOptions& options) {
  const QueryFilter filter = make_filter(options);
  auto queries = open_queries(global);
  const auto rows = queries->reports(filter);
  Table table({"id", "org_name", "report_id", "domain", "begin", "end", "records", "messages",
               "dmarc_pass_pct", "policy"},
              {"id", "reporter", "report id", "domain", "begin", "end", "records", "messages", "pass%",
               "policy"});
  for (const ReportRow& r : rows) {
    table.row().integer(r.id).text(r.org_name).text(r.report_id).text(r.domain);
    table.text(format_utc(r.begin)).text(format_utc(r.end)).integer(r.records).integer(r.messages);
    table.number(percent_of(r.dmarc_pass, r.messages)).text(r.policy);
  }
  print_result(table, options, *queries, filter, "reports");
  return exit_ok;
}

struct ShowOptions {
  QueryOptions common;
  std::string report;
};

Table records_table(const ReportDetail& detail) {
  Table table({"source_ip", "count", "header_from", "envelope_from", "class", "dkim_aligned", "spf_aligned",
               "disposition", "dkim_evaluated", "spf_evaluated", "dkim", "spf", "reasons"},
              {"source", "count", "header_from", "envelope_from", "class", "dkim al", "spf al",
               "disposition", "rcv dkim", "rcv spf", "dkim results", "spf results", "reasons"});
  for (const ShowRecord& r : detail.records) {
    table.row().text(r.source_ip).integer(r.count).text(r.header_from).text(r.envelope_from);
    table.text(r.traffic_class).text(r.dkim_aligned ? "yes" : "no").text(r.spf_aligned ? "yes" : "no");
    table.text(r.disposition).text(r.dkim_evaluated).text(r.spf_evaluated);
    table.list(r.dkim).list(r.spf).list(r.reasons);
  }
  return table;
}

int run_show(const GlobalOptions& global, const ShowOptions& options) {
  auto queries = open_queries(global);
  const auto detail = queries->show(options.report);
  if (!detail) {
    std::fprintf(stderr, "dmarcq: no report %s (see `dmarcq reports`)\n", printable(options.report).c_str());
    return exit_data_error;
  }
  const ReportRow& r = detail->report;
  const OutputFormat format = output_format(options.common);
  if (format == OutputFormat::json) {
    nlohmann::ordered_json object = {
        {"id", r.id}, {"org_name", printable(r.org_name)}, {"email", printable(detail->email)},
        {"report_id", printable(r.report_id)}, {"domain", printable(r.domain)},
        {"begin", format_utc(r.begin)}, {"end", format_utc(r.end)}, {"policy", printable(r.policy)},
        {"records", r.records}, {"messages", r.messages}, {"source_file", printable(detail->source_file)},
        {"source_member", printable(detail->source_member)}, {"payload_sha256", detail->payload_sha256}};
    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    for (const ShowRecord& x : detail->records) {
      auto list = [](const std::vector<std::string>& items) {
        nlohmann::ordered_json array = nlohmann::ordered_json::array();
        for (const auto& item : items) array.push_back(printable(item));
        return array;
      };
      records.push_back({{"source_ip", printable(x.source_ip)}, {"count", x.count},
                         {"header_from", printable(x.header_from)}, {"envelope_from", printable(x.envelope_from)},
                         {"class", x.traffic_class}, {"dkim_aligned", x.dkim_aligned},
                         {"spf_aligned", x.spf_aligned}, {"dmarc_pass", x.dmarc_pass},
                         {"disposition", printable(x.disposition)}, {"dkim_evaluated", printable(x.dkim_evaluated)},
                         {"spf_evaluated", printable(x.spf_evaluated)}, {"dkim", list(x.dkim)},
                         {"spf", list(x.spf)}, {"reasons", list(x.reasons)},
                         {"unaligned_dkim_domain", printable(x.unaligned_dkim_domain)},
                         {"unaligned_spf_domain", printable(x.unaligned_spf_domain)}});
    }
    object["record_list"] = std::move(records);
    std::printf("%s\n", object.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
    return exit_ok;
  }
  if (format == OutputFormat::table) {
    std::printf("report #%lld: %s from %s%s%s\n", static_cast<long long>(r.id), printable(r.report_id).c_str(),
                printable(r.org_name).c_str(), detail->email.empty() ? "" : " ",
                printable(detail->email.empty() ? "" : "<" + detail->email + ">").c_str());
    std::printf("domain %s, %s .. %s, policy %s\n", printable(r.domain).c_str(), format_utc(r.begin).c_str(),
                format_utc(r.end).c_str(), printable(r.policy).c_str());
    std::printf("%lld records, %lld messages, source %s%s%s\n\n", static_cast<long long>(r.records),
                static_cast<long long>(r.messages), printable(detail->source_file).c_str(),
                detail->source_member.empty() ? "" : ":", printable(detail->source_member).c_str());
  }
  records_table(*detail).write(stdout, format, use_color(options.common));
  return exit_ok;
}

struct SqlOptions {
  QueryOptions common;
  std::string statement;
};

int run_sql(const GlobalOptions& global, const SqlOptions& options) {
  auto queries = open_queries(global);
  std::unique_ptr<Table> table;
  queries->sql(
      options.statement,
      [&table](const std::vector<SqlColumn>& columns) {
        std::vector<std::string> keys;
        for (const auto& c : columns) keys.push_back(printable(c.name));
        table = std::make_unique<Table>(std::move(keys));
      },
      [&table](const std::vector<SqlValue>& values) {
        table->row();
        for (const SqlValue& v : values) {
          switch (v.type) {
            case SqlValue::Type::null: table->null(); break;
            case SqlValue::Type::integer: table->integer(v.integer); break;
            case SqlValue::Type::real: table->number(v.real); break;
            case SqlValue::Type::text: table->text(v.text); break;
            case SqlValue::Type::blob: table->text("x'" + to_hex(v.text) + "'"); break;
          }
        }
      });
  if (table) table->write(stdout, output_format(options.common), use_color(options.common));
  return exit_ok;
}

int run_rebuild_rollups(const GlobalOptions& global) {
  const std::int64_t rows = rebuild_sqlite_rollups(store_options(global, false));
  std::printf("rollups rebuilt: %lld rows in source_windows\n", static_cast<long long>(rows));
  return exit_ok;
}

}  // namespace

void register_query_reports(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection) {
  if (CLI::App* command = selection.add(app, "reports", "Stored reports, newest first")) {
    auto options = std::make_shared<QueryOptions>();
    add_query_options(*command, *options, {"newest", "oldest", "messages"});
    command->callback([&global, options, &run] { run = [&global, options] { return run_reports(global, *options); }; });
  }
  if (CLI::App* command = selection.add(app, "show", "One report with its records")) {
    auto options = std::make_shared<ShowOptions>();
    command->add_option("REPORT", options->report, "Row id (from `dmarcq reports`) or the reporter's report id")
        ->required();
    add_format_options(*command, options->common);
    command->callback([&global, options, &run] { run = [&global, options] { return run_show(global, *options); }; });
  }
  if (CLI::App* command = selection.add(
          app, "sql", "Read-only SQL against the database (schema: README \"Data model\")")) {
    auto options = std::make_shared<SqlOptions>();
    command->add_option("STATEMENT", options->statement, "One SELECT statement")->required();
    add_format_options(*command, options->common);
    command->callback([&global, options, &run] { run = [&global, options] { return run_sql(global, *options); }; });
  }
  if (CLI::App* db = selection.add(app, "db", "Database maintenance")) {
    db->require_subcommand(1);
    CLI::App* rebuild = selection.add(*db, "rebuild-rollups", "Recompute the query rollup from the stored records");
    rebuild->callback([&global, &run] { run = [&global] { return run_rebuild_rollups(global); }; });
  }
}

}  // namespace dmarcq::cli
