// Subcommands of the dmarcq CLI. Each registers itself on the CLI11 app and
// runs through the library; no SQL and no third-party parsing here.
#pragma once

#include <CLI/CLI.hpp>

#include "dmarcq/store.hpp"

#include <functional>
#include <string>

namespace dmarcq::cli {

struct GlobalOptions {
  std::string db_path;  // --db
  int busy_timeout_ms = 30'000;
  bool group_readable = false;  // --group-readable
};

// Resolves --db, $DMARCQ_DB, $XDG_DATA_HOME/dmarcq/dmarcq.db, ~/.local/share/dmarcq/dmarcq.db.
std::string resolve_db_path(const GlobalOptions& options);

// How every subcommand opens the database.
StoreOptions store_options(const GlobalOptions& global, bool read_only);

// A registered subcommand sets `run` to the function main() calls after parsing.
using Runner = std::function<int()>;

void register_ingest(CLI::App& app, GlobalOptions& global, Runner& run);
void register_export(CLI::App& app, GlobalOptions& global, Runner& run);
void register_conflicts(CLI::App& app, GlobalOptions& global, Runner& run);
// Adds `check` to the `db` subcommand (register after register_query_reports).
void register_db_check(CLI::App& app, GlobalOptions& global, Runner& run);
void register_failures(CLI::App& app, GlobalOptions& global, Runner& run);  // + show-failure
void register_rejected(CLI::App& app, GlobalOptions& global, Runner& run);  // + reprocess
// summary, sources, impersonators, timeline, reports, show, sql, db rebuild-rollups
void register_queries(CLI::App& app, GlobalOptions& global, Runner& run);

}  // namespace dmarcq::cli
