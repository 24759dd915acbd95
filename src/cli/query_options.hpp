// Options shared by the query subcommands (summary, sources, impersonators,
// reports, show, timeline, sql) and their translation into a QueryFilter.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "dmarcq/query.hpp"
#include "output_format.hpp"

namespace dmarcq::cli {

struct QueryOptions {
  std::vector<std::string> domains;
  std::string since, until, reporter, ip, sort, allow_list;
  std::string format = "table";
  std::int64_t min_count = 0;
  std::int64_t limit = 0;  // 0 = no limit
  bool no_color = false;
};

// --domain, --since, --until, --reporter, --ip, --min-count, --limit, --sort
// (one of `sorts`, empty = no --sort), --format, --no-color, --allow-list.
void add_query_options(CLI::App& command, QueryOptions& options, const std::vector<std::string>& sorts);
// --format and --no-color only.
void add_format_options(CLI::App& command, QueryOptions& options);

// A validator for time specs (7d, 2026-11-01, ...).
CLI::Validator time_spec_validator();

std::int64_t now_epoch_seconds();
QueryFilter make_filter(const QueryOptions& options);
std::unique_ptr<Queries> open_queries(const GlobalOptions& global);
OutputFormat output_format(const QueryOptions& options);
// Table format on a terminal, without --no-color / $NO_COLOR.
bool use_color(const QueryOptions& options);
bool stdout_is_terminal();

// "for example.org since 2026-11-01" (for the empty-result notes).
std::string describe_scope(const QueryFilter& filter);
// Prints the table, or (when it is empty and the format is `table`) a note on
// stderr: "no reports for ..." when the period has no report at all, else
// "no <what> for ...". Machine formats always print (an empty array / header).
void print_result(const Table& table, const QueryOptions& options, Queries& queries,
                  const QueryFilter& filter, const std::string& what);
// The same for rows handed over one at a time: `produce` gives them to the
// sink. CSV/TSV/JSON are written as they come (a listing of every source
// holds ~150,000 rows for a month); `table` needs every row for its column
// widths, so `layout` keeps them. Returns the number of rows.
std::size_t print_rows(Table& layout, const QueryOptions& options, Queries& queries, const QueryFilter& filter,
                       const std::string& what, const std::function<void(RowSink&)>& produce);

}  // namespace dmarcq::cli

namespace dmarcq::cli {
// cmd_query_reports.cpp: reports, show, sql, db rebuild-rollups.
void register_query_reports(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection);
}  // namespace dmarcq::cli
