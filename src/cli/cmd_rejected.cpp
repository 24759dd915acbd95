// `dmarcq rejected` (inputs kept because they carried no valid report) and
// `dmarcq reprocess` (re-parse everything kept, e.g. after an upgrade).
#include <cstdio>

#include <fmt/format.h>

#include "commands.hpp"
#include "dmarcq/ingest.hpp"
#include "dmarcq/text.hpp"
#include "dmarcq/timespec.hpp"
#include "exit_codes.hpp"

namespace dmarcq::cli {

namespace {

struct RejectedOptions {
  std::int64_t raw_id = 0;
};

int run_rejected(const GlobalOptions& global, const RejectedOptions& options) {
  auto store = open_sqlite_store(store_options(global, true));
  if (options.raw_id > 0) {
    bool found = false;
    store->for_each_rejected([&](const RejectedInfo& info, std::string_view bytes) {
      if (info.id != options.raw_id) return;
      found = true;
      std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    });
    if (!found) throw Failure(ErrorKind::usage, fmt::format("no rejected input #{}", options.raw_id));
    return exit_ok;
  }
  const auto rejected = store->rejected();
  if (rejected.empty()) {
    std::printf("no rejected inputs\n");
    return exit_ok;
  }
  for (const RejectedInfo& r : rejected)
    std::printf("#%lld %s %s (%lld bytes%s%s, tried %lld time%s): %s\n", static_cast<long long>(r.id),
                format_utc(r.received_at).c_str(), printable(r.source).c_str(),
                static_cast<long long>(r.size), r.message_id ? ", Message-ID " : "",
                r.message_id ? printable(*r.message_id).c_str() : "", static_cast<long long>(r.tries),
                r.tries == 1 ? "" : "s", printable(r.reason).c_str());
  return exit_ok;
}

int run_reprocess(const GlobalOptions& global) {
  auto store = open_sqlite_store(store_options(global, false));
  IngestSettings settings;
  const ReprocessTotals totals = reprocess(*store, settings, [](const std::string& warning) {
    std::fprintf(stderr, "dmarcq: warning: %s\n", printable(warning).c_str());
  });
  std::printf("rejected inputs: %lld tried, %lld now parse; raw payloads: %lld re-parsed, %lld failed; "
              "%lld reports stored\n",
              static_cast<long long>(totals.rejected_tried), static_cast<long long>(totals.rejected_recovered),
              static_cast<long long>(totals.payloads_reparsed), static_cast<long long>(totals.payloads_failed),
              static_cast<long long>(totals.reports_stored));
  return totals.payloads_failed > 0 ? exit_data_error : exit_ok;
}

}  // namespace

void register_rejected(CLI::App& app, GlobalOptions& global, Runner& run, const CommandSelection& selection) {
  auto options = std::make_shared<RejectedOptions>();
  if (CLI::App* command = selection.add(app, "rejected", "Inputs kept because they carried no valid report")) {
    command->add_option("--raw", options->raw_id, "Write rejected input ID as received to stdout")->option_text("ID");
    command->callback(
        [&global, options, &run] { run = [&global, options] { return run_rejected(global, *options); }; });
  }
  if (CLI::App* again = selection.add(
          app, "reprocess", "Re-parse every kept payload and rejected input (after an upgrade fixed a parser bug)"))
    again->callback([&global, &run] { run = [&global] { return run_reprocess(global); }; });
}

}  // namespace dmarcq::cli
