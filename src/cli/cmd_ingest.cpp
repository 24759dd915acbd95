// `dmarcq ingest [PATH...]`: files, directories, mbox files, Maildirs
// (--maildir), or one message on stdin (MDA mode).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <deque>
#include <filesystem>

#include <fmt/format.h>

#include "commands.hpp"
#include "dmarcq/archive.hpp"
#include "dmarcq/batch.hpp"
#include "dmarcq/input.hpp"
#include "dmarcq/text.hpp"
#include "exit_codes.hpp"
#include "heap_warmup.hpp"

namespace dmarcq::cli {

namespace {

namespace fs = std::filesystem;

struct IngestOptions {
  std::vector<std::string> paths;
  std::vector<std::string> maildirs;
  std::string move_to, failed_to;
  bool recursive = false;
  bool all = false;
  bool strict = false;
  bool quiet = false;
  bool verbose = false;
  bool no_keep_raw = false;
  bool keep_bodies = false;
  bool redact = false;
  unsigned jobs = 0;
  std::size_t commit_every = 1000;
  Limits limits;
};

std::uint64_t max_input_bytes(const Limits& limits) {
  return std::max(limits.max_message_bytes, limits.max_decompressed_bytes);
}

// open/fstat/read rather than an ifstream: a batch import reads every file
// in its one calling thread, and the stream's buffer, locale and extra stat
// were most of what that thread spent per file.
Expected<std::string> read_file(const fs::path& path, const Limits& limits) {
  // O_NONBLOCK: a FIFO named on the command line must not hang the import
  // (the fstat below refuses it); it changes nothing for a regular file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return make_error(ErrorKind::io, fmt::format("cannot open file: {}", std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) return make_error(ErrorKind::io, std::strerror(errno));
  if (!S_ISREG(info.st_mode)) return make_error(ErrorKind::io, "not a regular file");
  const auto size = static_cast<std::uint64_t>(info.st_size);
  if (size > max_input_bytes(limits))
    return make_error(ErrorKind::limit_exceeded,
                      fmt::format("file is {} bytes, larger than the {} byte limit", size,
                                  max_input_bytes(limits)));
  std::string bytes(static_cast<std::size_t>(size), '\0');
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return make_error(ErrorKind::io, fmt::format("read error: {}", std::strerror(errno)));
    if (got == 0) return make_error(ErrorKind::io, "short read");
    done += static_cast<std::size_t>(got);
  }
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
  // A read error is transient from the MTA's point of view: it will retry.
  if (std::ferror(stdin)) return make_error(ErrorKind::temporary, "read error on standard input");
  return bytes;
}

// Counts and prints what happened; on a terminal also a progress line.
class Reporter {
 public:
  explicit Reporter(const IngestOptions& options)
      : options_(options), progress_(!options.quiet && ::isatty(STDERR_FILENO)) {}

  void rejected_before_parsing(const std::string& name, const Error& error) {
    ++unreadable_;
    clear_progress();
    std::fprintf(stderr, "dmarcq: rejected %s: %s\n", printable(name).c_str(),
                 printable(error.describe()).c_str());
  }

  void outcome(const BatchItem& item, const InputOutcome& outcome) {
    ++done_;
    if (outcome.status == InputStatus::rejected) {
      clear_progress();
      std::fprintf(stderr, "dmarcq: rejected %s: %s%s\n", printable(item.name).c_str(),
                   printable(outcome.error->describe()).c_str(),
                   outcome.kept ? " (kept; see `dmarcq rejected`)" : "");
    } else {
      for (const auto& note : outcome.notes)
        if (options_.verbose || outcome.conflicts > 0) {
          clear_progress();
          std::fprintf(stderr, "dmarcq: %s: %s\n", printable(item.name).c_str(), printable(note).c_str());
        }
      if (options_.verbose) {
        clear_progress();
        std::fprintf(stderr, "dmarcq: %s: %lld stored (%lld records), %lld duplicate\n",
                     printable(item.name).c_str(), static_cast<long long>(outcome.reports_stored),
                     static_cast<long long>(outcome.records_stored),
                     static_cast<long long>(outcome.duplicates));
      }
    }
    show_progress();
  }

  void expect(std::int64_t total) { expected_ = total; }

  void summary(const BatchTotals& totals) {
    clear_progress();
    if (options_.quiet) return;
    std::string line = fmt::format(
        "{} input{}: {} report{} stored ({} records), {} duplicate{}, {} conflict{}, {} rejected",
        totals.inputs + unreadable_, totals.inputs + unreadable_ == 1 ? "" : "s", totals.reports,
        totals.reports == 1 ? "" : "s", totals.records, totals.duplicates, totals.duplicates == 1 ? "" : "s",
        totals.conflicts, totals.conflicts == 1 ? "" : "s", totals.rejected + unreadable_);
    // Failure reports are rarer: mentioned only when there were some.
    if (totals.failures + totals.failure_duplicates > 0)
      line += fmt::format("; {} failure report{} stored, {} duplicate", totals.failures,
                          totals.failures == 1 ? "" : "s", totals.failure_duplicates);
    std::printf("%s\n", line.c_str());
  }

  [[nodiscard]] std::int64_t unreadable() const { return unreadable_; }

 private:
  void show_progress() {
    if (!progress_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_shown_ < std::chrono::milliseconds(250)) return;
    last_shown_ = now;
    const double seconds = std::chrono::duration<double>(now - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0;
    std::string line = fmt::format("{} inputs, {:.0f}/s", done_, rate);
    if (expected_ > 0 && rate > 0)
      line = fmt::format("{}/{} inputs, {:.0f}/s, ETA {:.0f}s", done_, expected_, rate,
                         static_cast<double>(expected_ - done_) / rate);
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
    shown_ = true;
  }
  void clear_progress() {
    if (shown_) std::fputs("\r\033[K", stderr);
    shown_ = false;
  }

  const IngestOptions& options_;
  bool progress_;
  bool shown_ = false;
  std::int64_t done_ = 0, expected_ = 0, unreadable_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_shown_{};
};

// Every regular file under the given paths (directories walked recursively,
// sorted so that runs are reproducible).
std::vector<fs::path> expand_paths(const std::vector<std::string>& paths, Reporter& reporter) {
  std::vector<fs::path> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      reporter.rejected_before_parsing(path, make_error(ErrorKind::io, "no such file or directory"));
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

// Yields files (an mbox file as its messages), then Maildir messages.
class InputWalker {
 public:
  InputWalker(const IngestOptions& options, Reporter& reporter) : options_(options), reporter_(reporter) {
    files_ = expand_paths(options.paths, reporter);
    for (const std::string& dir : options.maildirs) {
      if (!is_maildir(dir)) {
        reporter.rejected_before_parsing(dir, make_error(ErrorKind::io, "not a Maildir (no cur/ and new/)"));
        continue;
      }
      messages_.add(dir, options.recursive, options.all);
    }
    reporter.expect(static_cast<std::int64_t>(files_.size() + messages_.size()));
  }

  std::optional<BatchItem> next() {
    while (true) {
      if (!queued_.empty()) {
        BatchItem item = std::move(queued_.front());
        queued_.pop_front();
        return item;
      }
      if (next_file_ < files_.size()) {
        queue_file(files_[next_file_++]);
        continue;
      }
      if (next_message_ < messages_.size()) {
        if (auto item = maildir_item(messages_[next_message_++])) return item;
        continue;
      }
      return std::nullopt;
    }
  }

 private:
  void queue_file(const fs::path& file) {
    auto bytes = read_file(file, options_.limits);
    if (!bytes) {
      reporter_.rejected_before_parsing(file.string(), bytes.error());
      return;
    }
    if (sniff_format(*bytes) != ContentFormat::mbox) {
      queued_.push_back(BatchItem{file.string(), std::move(*bytes), false, {}});
      return;
    }
    std::size_t number = 0;
    for (std::string& message : split_mbox(*bytes))
      queued_.push_back(BatchItem{fmt::format("{}#{}", file.string(), ++number), std::move(message), true, {}});
  }

  std::optional<BatchItem> maildir_item(const MaildirMessage& message) {
    auto bytes = read_file(message.path, options_.limits);
    if (!bytes) {
      std::error_code ec;
      if (!fs::exists(message.path, ec)) return std::nullopt;  // moved away meanwhile: not ours any more
      reporter_.rejected_before_parsing(message.path, bytes.error());
      return std::nullopt;
    }
    BatchItem item{message.path, std::move(*bytes), true, {}};
    const IngestOptions& options = options_;
    item.after_commit = [message, &options](const InputOutcome& outcome) {
      std::optional<fs::path> destination;
      if (outcome.status == InputStatus::rejected && !options.failed_to.empty())
        destination = options.failed_to;
      else if (outcome.status != InputStatus::rejected && !options.move_to.empty())
        destination = options.move_to;
      // A rejected message that could not be kept stays unprocessed.
      if (outcome.status == InputStatus::rejected && !outcome.kept) return;
      auto moved = mark_processed(message, destination);
      if (!moved)
        std::fprintf(stderr, "dmarcq: warning: %s\n", printable(moved.error().describe()).c_str());
    };
    return item;
  }

  const IngestOptions& options_;
  Reporter& reporter_;
  std::vector<fs::path> files_;
  MaildirListing messages_;
  std::size_t next_file_ = 0, next_message_ = 0;
  std::deque<BatchItem> queued_;
};

IngestSettings ingest_settings(const IngestOptions& options) {
  IngestSettings settings;
  settings.limits = options.limits;
  settings.keep_raw = !options.no_keep_raw;
  settings.keep_rejected = true;
  settings.keep_bodies = options.keep_bodies;
  settings.redact = options.redact;
  return settings;
}

// One message (or bare report) on stdin, as an MTA delivers it. Exit 0 once
// the message is stored or kept, so that the MTA never bounces a report back.
int run_mda(const GlobalOptions& global, const IngestOptions& options) {
  warm_up_heap();
  auto bytes = read_stdin(options.limits);
  if (!bytes) throw Failure(bytes.error());
  StoreOptions store_settings = store_options(global, false);
  store_settings.durable_commits = true;
  auto store = open_sqlite_store(store_settings);
  const InputOutcome outcome = ingest_input(*store, *bytes, "-", ingest_settings(options));
  if (outcome.status == InputStatus::rejected) {
    if (!options.quiet)
      std::fprintf(stderr, "dmarcq: rejected stdin: %s%s\n", printable(outcome.error->describe()).c_str(),
                   outcome.kept ? " (kept; see `dmarcq rejected`)" : "");
    return options.strict ? exit_data_error : exit_ok;
  }
  if (options.verbose)
    std::fprintf(stderr, "dmarcq: stdin: %lld stored (%lld records), %lld duplicate, %lld failure report%s\n",
                 static_cast<long long>(outcome.reports_stored),
                 static_cast<long long>(outcome.records_stored),
                 static_cast<long long>(outcome.duplicates),
                 static_cast<long long>(outcome.failures_stored + outcome.failure_duplicates),
                 outcome.failures_stored + outcome.failure_duplicates == 1 ? "" : "s");
  return exit_ok;
}

int run_batch_import(const GlobalOptions& global, const IngestOptions& options) {
  Reporter reporter(options);
  StoreOptions store_settings = store_options(global, false);
  store_settings.background_checkpoints = true;
  store_settings.multi_row_inserts = true;
  auto store = open_sqlite_store(store_settings);
  InputWalker walker(options, reporter);
  BatchSettings settings;
  settings.ingest = ingest_settings(options);
  settings.workers = options.jobs;
  settings.commit_every_inputs = std::max<std::size_t>(1, options.commit_every);
  const BatchTotals totals = run_batch(
      *store, [&walker] { return walker.next(); }, settings,
      [&reporter](const BatchItem& item, const InputOutcome& outcome) { reporter.outcome(item, outcome); });
  reporter.summary(totals);
  if (totals.rejected > 0 && (options.strict || totals.kept < totals.rejected)) return exit_data_error;
  if (reporter.unreadable() > 0) return exit_no_input;
  return exit_ok;
}

int run_ingest(const GlobalOptions& global, const IngestOptions& options) {
  if (options.paths.empty() && options.maildirs.empty()) return run_mda(global, options);
  return run_batch_import(global, options);
}

}  // namespace

void register_ingest(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection) {
  auto options = std::make_shared<IngestOptions>();
  CLI::App* command = selection.add(
      app, "ingest",
      "Store the reports in files, directories, mbox files or Maildirs; none = one message on stdin");
  if (!command) return;
  command->add_option("paths", options->paths,
                      "Files, directories (recursive) or mbox files; none and no --maildir = read one "
                      "message or report on stdin (MDA mode)")
      ->option_text("PATH...");
  command->add_option("--maildir", options->maildirs, "A Maildir to import (new/ and cur/; repeatable)")
      ->option_text("DIR");
  command->add_flag("--recursive", options->recursive, "With --maildir: also Maildir++ sub-folders (.Folder)");
  command->add_flag("--all", options->all, "With --maildir: also messages already marked Seen");
  command->add_option("--move-to", options->move_to, "With --maildir: move processed messages to this Maildir")
      ->option_text("MAILDIR");
  command->add_option("--failed-to", options->failed_to,
                      "With --maildir: move kept-but-rejected messages to this Maildir")
      ->option_text("MAILDIR");
  command->add_flag("--strict", options->strict,
                    "Exit 65 when a message carries no valid report, even though it was kept");
  command->add_flag("--no-keep-raw", options->no_keep_raw,
                    "Do not keep each payload as received (then `dmarcq reprocess` cannot re-parse it)");
  command->add_flag("--keep-bodies", options->keep_bodies,
                    "Failure reports: also keep the original message body (default: headers only)");
  command->add_flag("--redact", options->redact,
                    "Failure reports: replace the local part of every address with a hash");
  command->add_option("-j,--jobs", options->jobs, "Parser threads (default: cores - 1, at least 1)");
  command->add_option("--commit-every", options->commit_every,
                      "Batch imports: commit after this many inputs (or 1 s); a message is marked "
                      "processed only after its commit")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command->add_flag("-q,--quiet", options->quiet, "No summary line, no progress");
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
  command->add_option("--max-records", options->limits.max_records_per_report, "Most records per report")
      ->capture_default_str();
  command->add_option("--max-field", options->limits.max_field_bytes, "Longest single text value in a report")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("1MiB");
  command->add_option("--max-message", options->limits.max_message_bytes, "Largest email message (e.g. 64MiB)")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("64MiB");
  command->add_option("--max-mime-depth", options->limits.max_mime_depth, "Deepest MIME nesting")
      ->capture_default_str();
  command->add_option("--max-mime-parts", options->limits.max_mime_parts, "Most MIME parts per message")
      ->capture_default_str();
  command->callback([&global, options, &run] { run = [&global, options] { return run_ingest(global, *options); }; });
}

}  // namespace dmarcq::cli
