// `dmarcq db check`: is the database sound?
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

}  // namespace

void register_db_check(CLI::App& app, GlobalOptions& global, Runner& run) {
  CLI::App* db = app.get_subcommand("db");
  CLI::App* check = db->add_subcommand(
      "check", "Integrity check: SQLite's own plus every report complete (exit 1 when a problem is found)");
  check->callback([&global, &run] { run = [&global] { return run_check(global); }; });
}

}  // namespace dmarcq::cli
