// Subcommands of the dmarcq CLI. Each registers itself on the CLI11 app and
// runs through the library; no SQL and no third-party parsing here.
#pragma once

#include <CLI/CLI.hpp>

#include "dmarcq/store.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <utility>

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

// Which top-level subcommands are built in full: every one, or only the one
// the command line names (the others get their name and description only).
// main() parses again with every one built when the parse does not end in
// the one named, so help and errors are those of the whole CLI. Building
// every option of every subcommand took ~0.25 ms of each MDA delivery (one
// process per message).
class CommandSelection {
 public:
  CommandSelection() = default;  // all in full
  explicit CommandSelection(std::string named) : named_(std::move(named)) {}

  bool builds_all() const { return named_.empty(); }
  bool builds(std::string_view name) const { return named_.empty() || named_ == name; }
  // Adds the subcommand to `parent`; nullptr when only its name is wanted
  // (a subcommand of a subcommand is always wanted: its parent was built).
  CLI::App* add(CLI::App& parent, const std::string& name, const std::string& description) const {
    CLI::App* command = parent.add_subcommand(name, description);
    return parent.get_parent() != nullptr || builds(name) ? command : nullptr;
  }

 private:
  std::string named_;
};

void register_ingest(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection);
void register_export(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection);
void register_conflicts(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection);
// Adds `check` to the `db` subcommand (register after register_query_reports).
void register_db_check(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection);
// failures, show-failure
void register_failures(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection);
// rejected, reprocess
void register_rejected(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection);
// summary, sources, impersonators, timeline, reports, show, sql, db rebuild-rollups
void register_queries(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection);

}  // namespace dmarcq::cli
