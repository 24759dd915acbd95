// dmarcq: ingest DMARC reports and tell a domain owner who sends mail in
// their name. This file only wires the subcommands and maps errors to exit codes.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "commands.hpp"
#include "dmarcq/text.hpp"
#include "exit_codes.hpp"

namespace dmarcq::cli {

std::string resolve_db_path(const GlobalOptions& options) {
  if (!options.db_path.empty()) return options.db_path;
  if (const char* env = std::getenv("DMARCQ_DB"); env && *env) return env;
  if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data)
    return std::string(data) + "/dmarcq/dmarcq.db";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.local/share/dmarcq/dmarcq.db";
  return "dmarcq.db";
}

StoreOptions store_options(const GlobalOptions& global, bool read_only) {
  StoreOptions options;
  options.path = resolve_db_path(global);
  options.read_only = read_only;
  options.busy_timeout_ms = global.busy_timeout_ms;
  options.group_readable = global.group_readable;
  return options;
}

namespace {

// The first word on the command line that is not an option of `app` (the
// top level) or an option's value: the subcommand asked for, or "". A guess
// (CLI11 decides): run() parses again with every subcommand built when the
// parse did not end in the one guessed.
std::string subcommand_named(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return {};
    if (!arg.starts_with('-') || arg.size() == 1) return std::string(arg);
    const std::size_t equals = arg.find('=');
    if (equals != std::string_view::npos && equals + 1 < arg.size()) continue;  // --name=value
    // "--name" or "--name=": CLI11 then takes the next word as the value.
    const CLI::Option* option = app.get_option_no_throw(std::string(arg.substr(0, equals)));
    if (option && option->get_items_expected_max() > 0) ++i;  // not a flag: its value follows
  }
  return {};
}

// Builds the CLI with the subcommands `all` says, parses, runs. Without
// `all`, only the subcommand named is built: then anything but a parse that
// ends in it (help, a usage error, another subcommand) returns nullopt, and
// run() does it all again with every subcommand, so help and errors are
// those of the whole CLI.
std::optional<int> parse_and_run(int argc, char** argv, bool all) {
  CLI::App app{"dmarcq: ingest DMARC aggregate reports and see who sends mail as your domain",
               "dmarcq"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dmarcq 0.1.0");
  GlobalOptions global;
  app.add_option("--db", global.db_path,
                 "Database file (default: $DMARCQ_DB, else $XDG_DATA_HOME/dmarcq/dmarcq.db)")
      ->option_text("PATH");
  app.add_option("--busy-timeout", global.busy_timeout_ms,
                 "Milliseconds to wait for another writer before giving up (exit 75)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--group-readable", global.group_readable,
               "Create a new database 0640 instead of 0600 (failure reports hold personal data)");

  Runner runner;
  const CommandSelection selection = all ? CommandSelection() : CommandSelection(subcommand_named(app, argc, argv));
  register_ingest(app, global, runner, selection);
  register_export(app, global, runner, selection);
  register_conflicts(app, global, runner, selection);
  register_rejected(app, global, runner, selection);
  register_failures(app, global, runner, selection);
  register_queries(app, global, runner, selection);
  register_db_check(app, global, runner, selection);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (!selection.builds_all()) return std::nullopt;
    if (dynamic_cast<const CLI::CallForHelp*>(&e) || dynamic_cast<const CLI::CallForAllHelp*>(&e) ||
        dynamic_cast<const CLI::CallForVersion*>(&e))
      return app.exit(e);
    std::fprintf(stderr, "dmarcq: %s\nRun `dmarcq --help` for usage.\n", e.what());
    return exit_usage;
  }
  if (!runner) return selection.builds_all() ? std::optional<int>(exit_usage) : std::nullopt;
  return runner();
}

int run(int argc, char** argv) {
  if (const std::optional<int> code = parse_and_run(argc, argv, false)) return *code;
  return *parse_and_run(argc, argv, true);
}

}  // namespace
}  // namespace dmarcq::cli

int main(int argc, char** argv) {
  using namespace dmarcq;
  try {
    return cli::run(argc, argv);
  } catch (const Failure& failure) {
    std::fprintf(stderr, "dmarcq: error: %s\n", printable(failure.error().describe()).c_str());
    return cli::exit_code_for(failure.error().kind);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "dmarcq: error: out of memory\n");
    return cli::exit_temp_fail;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dmarcq: internal error: %s\n", printable(e.what()).c_str());
    return cli::exit_software;
  }
}
