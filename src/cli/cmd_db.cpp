// `dmarcq db check` (is the database sound?) and `dmarcq db migrate`.
#include <cstdio>

#include "commands.hpp"
#include "dmarcq/store.hpp"
#include "dmarcq/text.hpp"
#include "exit_codes.hpp"

namespace dmarcq::cli {

namespace {

int run_check(const GlobalOptions& global) {
  const auto problems = check_sqlite_database(store_options(global, true));
  if (problems.empty()) {
    std::printf("ok\n");
    return exit_ok;
  }
  for (const auto& problem : problems) std::printf("%s\n", printable(problem).c_str());
  return exit_found;
}

// Opening for writing applies every pending migration (in one transaction).
int run_migrate(const GlobalOptions& global) {
  auto store = open_sqlite_store(store_options(global, false));
  std::printf("schema version %d\n", store->schema_version());
  return exit_ok;
}

}  // namespace

void register_db_check(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection) {
  if (!selection.builds("db")) return;
  CLI::App* db = app.get_subcommand("db");
  CLI::App* check = selection.add(
      *db, "check", "Integrity check: SQLite's own plus every report complete (exit 1 when a problem is found)");
  check->callback([&global, &run] { run = [&global] { return run_check(global); }; });
  CLI::App* migrate = selection.add(
      *db, "migrate", "Create the database or bring its schema up to this dmarcq's version (any write does it too)");
  migrate->callback([&global, &run] { run = [&global] { return run_migrate(global); }; });
}

}  // namespace dmarcq::cli
