// `dmarcq ingest [PATH...]`: files and directories, or one message on stdin.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include <fmt/format.h>

#include "commands.hpp"
#include "dmarcq/ingest.hpp"
#include "dmarcq/text.hpp"
#include "exit_codes.hpp"

namespace dmarcq::cli {

namespace {

namespace fs = std::filesystem;

struct IngestOptions {
  std::vector<std::string> paths;
  bool quiet = false;
  bool verbose = false;
  Limits limits;
};

struct RunTotals {
  std::int64_t inputs = 0, reports = 0, records = 0, duplicates = 0, conflicts = 0, rejected = 0,
               unreadable = 0;
};

std::uint64_t max_input_bytes(const Limits& limits) {
  return std::max(limits.max_message_bytes, limits.max_decompressed_bytes);
}

Expected<std::string> read_file(const fs::path& path, const Limits& limits) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return make_error(ErrorKind::io, ec.message());
  if (size > max_input_bytes(limits))
    return make_error(ErrorKind::limit_exceeded,
                      fmt::format("file is {} bytes, larger than the {} byte limit", size,
                                  max_input_bytes(limits)));
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::io, "cannot open file");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(in.gcount()) != size) return make_error(ErrorKind::io, "short read");
  return bytes;
}

Expected<std::string> read_stdin(const Limits& limits) {
  std::string bytes;
  char buffer[65536];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, stdin)) > 0) {
    bytes.append(buffer, got);
    if (bytes.size() > max_input_bytes(limits))
      return make_error(ErrorKind::limit_exceeded,
                        fmt::format("input is larger than the {} byte limit", max_input_bytes(limits)));
  }
  if (std::ferror(stdin)) return make_error(ErrorKind::temporary, "read error on standard input");
  return bytes;
}

// Every regular file under the given paths, directories walked recursively
// in sorted order so that runs are reproducible.
std::vector<fs::path> expand_paths(const std::vector<std::string>& paths, RunTotals& totals) {
  std::vector<fs::path> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      std::fprintf(stderr, "dmarcq: error: %s: no such file or directory\n", printable(path).c_str());
      ++totals.unreadable;
      continue;
    }
    if (!fs::is_directory(status)) {
      files.emplace_back(path);
      continue;
    }
    std::vector<fs::path> found;
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file(ec)) found.push_back(it->path());
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

void report_outcome(const std::string& name, const InputOutcome& outcome, const IngestOptions& options,
                    RunTotals& totals) {
  ++totals.inputs;
  if (outcome.status == InputStatus::rejected) {
    ++totals.rejected;
    std::fprintf(stderr, "dmarcq: rejected %s: %s\n", printable(name).c_str(),
                 printable(outcome.error->describe()).c_str());
    return;
  }
  totals.reports += outcome.reports_stored;
  totals.records += outcome.records_stored;
  totals.duplicates += outcome.duplicates;
  totals.conflicts += outcome.conflicts;
  for (const auto& note : outcome.notes)
    if (options.verbose || outcome.conflicts > 0)
      std::fprintf(stderr, "dmarcq: %s: %s\n", printable(name).c_str(), printable(note).c_str());
  if (options.verbose)
    std::fprintf(stderr, "dmarcq: %s: %lld stored (%lld records), %lld duplicate\n",
                 printable(name).c_str(), static_cast<long long>(outcome.reports_stored),
                 static_cast<long long>(outcome.records_stored),
                 static_cast<long long>(outcome.duplicates));
}

void print_summary(const RunTotals& totals) {
  std::printf("%lld input%s: %lld report%s stored (%lld records), %lld duplicate%s, %lld conflict%s, "
              "%lld rejected\n",
              static_cast<long long>(totals.inputs), totals.inputs == 1 ? "" : "s",
              static_cast<long long>(totals.reports), totals.reports == 1 ? "" : "s",
              static_cast<long long>(totals.records), static_cast<long long>(totals.duplicates),
              totals.duplicates == 1 ? "" : "s", static_cast<long long>(totals.conflicts),
              totals.conflicts == 1 ? "" : "s",
              static_cast<long long>(totals.rejected + totals.unreadable));
}

int run_ingest(const GlobalOptions& global, const IngestOptions& options) {
  StoreOptions store_options;
  store_options.path = resolve_db_path(global);
  store_options.busy_timeout_ms = global.busy_timeout_ms;
  RunTotals totals;

  if (options.paths.empty()) {
    // MDA mode: one message (or bare report) on stdin.
    auto bytes = read_stdin(options.limits);
    if (!bytes) throw Failure(bytes.error());
    auto store = open_sqlite_store(store_options);
    const InputOutcome outcome = ingest_input(*store, *bytes, "-", options.limits);
    report_outcome("stdin", outcome, options, totals);
    if (!options.quiet && options.verbose) print_summary(totals);
    return outcome.status == InputStatus::rejected ? exit_code_for(outcome.error->kind) : exit_ok;
  }

  const std::vector<fs::path> files = expand_paths(options.paths, totals);
  auto store = open_sqlite_store(store_options);
  for (const fs::path& file : files) {
    const std::string name = file.string();
    auto bytes = read_file(file, options.limits);
    if (!bytes) {
      InputOutcome outcome;
      outcome.status = InputStatus::rejected;
      outcome.error = bytes.error();
      report_outcome(name, outcome, options, totals);
      continue;
    }
    report_outcome(name, ingest_input(*store, *bytes, name, options.limits), options, totals);
  }
  if (!options.quiet) print_summary(totals);
  if (totals.rejected > 0) return exit_data_error;
  if (totals.unreadable > 0) return exit_no_input;
  return exit_ok;
}

}  // namespace

void register_ingest(CLI::App& app, GlobalOptions& global, Runner& run) {
  auto options = std::make_shared<IngestOptions>();
  CLI::App* command = app.add_subcommand(
      "ingest",
      "Store the aggregate reports in files, directories (recursively), or one message on stdin");
  command->add_option("paths", options->paths,
                      "Files or directories; none = read one message or report on stdin (MDA mode)")
      ->option_text("PATH...");
  command->add_flag("-q,--quiet", options->quiet, "No summary line");
  command->add_flag("-v,--verbose", options->verbose, "One line per input, with notes");
  command->add_option("--max-decompressed", options->limits.max_decompressed_bytes,
                      "Largest decompressed payload (e.g. 256MiB)")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("256MiB");
  command->add_option("--max-ratio", options->limits.max_compression_ratio,
                      "Largest decompressed/compressed ratio of a payload over 1 MiB")
      ->capture_default_str();
  command->add_option("--max-members", options->limits.max_archive_members,
                      "Most zip members looked at per archive")
      ->capture_default_str();
  command->add_option("--max-records", options->limits.max_records_per_report,
                      "Most records per report")
      ->capture_default_str();
  command->add_option("--max-message", options->limits.max_message_bytes,
                      "Largest email message (e.g. 64MiB)")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("64MiB");
  command->callback([&global, options, &run] { run = [&global, options] { return run_ingest(global, *options); }; });
}

}  // namespace dmarcq::cli
