#include <fmt/format.h>

#include "dmarcq/ingest.hpp"

namespace dmarcq {

ReprocessTotals reprocess(Store& store, const IngestSettings& settings,
                          const std::function<void(const std::string&)>& warn) {
  ReprocessTotals totals;
  IngestSettings keep = settings;
  keep.keep_rejected = true;

  store.for_each_rejected([&](const RejectedInfo& info, std::string_view bytes) {
    ++totals.rejected_tried;
    auto extraction = extract_reports(bytes, info.source, settings.limits);
    auto batch = store.begin_batch();
    const InputOutcome outcome = store_extraction(*batch, bytes, info.source, extraction, keep);
    if (outcome.status != InputStatus::rejected) {
      batch->forget_rejected(info.id);
      ++totals.rejected_recovered;
      totals.reports_stored += outcome.reports_stored;
    }
    batch->commit();
  });

  store.for_each_raw_payload([&](const RawPayload& payload) {
    ++totals.payloads_tried;
    auto extraction = extract_reports(payload.bytes, payload.provenance.file, settings.limits);
    if (!extraction) {
      // Keep what is stored: a payload that parsed once and fails now points
      // at a regression, not at bad input.
      ++totals.payloads_failed;
      warn(fmt::format("raw payload {} from {} no longer parses: {}", payload.id, payload.provenance.file,
                       extraction.error().describe()));
      return;
    }
    std::vector<IncomingReport> incoming;
    for (ParsedReport& parsed : extraction->reports) {
      Provenance& p = parsed.provenance;
      p.message_id = payload.provenance.message_id;
      p.mail_from = payload.provenance.mail_from;
      p.mail_date = payload.provenance.mail_date;
      p.mail_subject = payload.provenance.mail_subject;
      p.attachment_name = payload.provenance.attachment_name;
      if (p.message_id) p.container = "eml>" + p.container;
      incoming.push_back(IncomingReport{&parsed.report, p, parsed.payload, {}, {}, {}, parsed.encoded});
    }
    auto batch = store.begin_batch();
    const auto results = batch->replace_reports_of_payload(payload.id, incoming);
    batch->commit();
    ++totals.payloads_reparsed;
    for (const AddResult& result : results)
      if (result.outcome == AddOutcome::stored) ++totals.reports_stored;
  });
  return totals;
}

}  // namespace dmarcq
