#include "report_json.hpp"

namespace dmarcq::cli {

namespace {

using Json = nlohmann::ordered_json;

Json optional_text(const std::optional<std::string>& value) {
  return value ? Json(*value) : Json(nullptr);
}

// Canonical lowercase value, the verbatim text for an unknown value, null when absent.
template <typename E>
Json enum_text(const Enumerated<E>& value) {
  return value.present() ? Json(std::string(value.text())) : Json(nullptr);
}

Json record_to_json(const Record& r) {
  Json reasons = Json::array();
  for (const auto& reason : r.reasons)
    reasons.push_back({{"type", reason.type.present() ? Json(std::string(reason.type.text())) : Json("")},
                       {"comment", optional_text(reason.comment)}});
  Json dkim = Json::array();
  for (const auto& d : r.dkim)
    dkim.push_back({{"domain", d.domain}, {"selector", optional_text(d.selector)}, {"result", enum_text(d.result)}});
  Json spf = Json::array();
  for (const auto& s : r.spf)
    spf.push_back({{"domain", s.domain}, {"scope", enum_text(s.scope)}, {"result", enum_text(s.result)}});
  const AlignmentVerdict& v = r.verdict;
  return Json{{"source_ip", r.source_ip},
              {"count", r.count},
              {"disposition", enum_text(r.disposition)},
              {"policy_evaluated_dkim", enum_text(r.policy_evaluated_dkim)},
              {"policy_evaluated_spf", enum_text(r.policy_evaluated_spf)},
              {"reasons", std::move(reasons)},
              {"header_from", r.header_from},
              {"envelope_from", optional_text(r.envelope_from)},
              {"envelope_to", optional_text(r.envelope_to)},
              {"auth_results", {{"dkim", std::move(dkim)}, {"spf", std::move(spf)}}},
              {"dkim_aligned", v.dkim_aligned},
              {"spf_aligned", v.spf_aligned},
              {"dmarc_pass", v.dmarc_pass},
              {"class", std::string(to_string(v.traffic_class))}};
}

}  // namespace

Json report_to_json(const StoredReport& stored) {
  const AggregateReport& report = stored.report;
  const PolicyPublished& p = report.policy;
  Json records = Json::array();
  for (const Record& record : report.records) records.push_back(record_to_json(record));
  const Provenance& source = stored.provenance;
  return Json{
      {"org_name", report.org_name},
      {"email", optional_text(report.email)},
      {"extra_contact_info", optional_text(report.extra_contact_info)},
      {"report_id", report.report_id},
      {"begin", report.begin},
      {"end", report.end},
      {"version", optional_text(report.version)},
      {"generator", optional_text(report.generator)},
      {"errors", report.errors},
      {"policy_published",
       {{"domain", p.domain},
        {"adkim", enum_text(p.adkim)},
        {"aspf", enum_text(p.aspf)},
        {"p", enum_text(p.p)},
        {"sp", enum_text(p.sp)},
        {"np", enum_text(p.np)},
        {"pct", p.pct ? Json(*p.pct) : Json(nullptr)},
        {"fo", optional_text(p.fo)},
        {"testing", enum_text(p.testing)},
        {"discovery_method", enum_text(p.discovery_method)},
        {"psd", optional_text(p.psd)},
        {"t", optional_text(p.t)}}},
      {"records", std::move(records)},
      {"source",
       {{"file", source.file},
        {"member", source.member},
        {"container", source.container},
        {"sha256", source.payload_sha256},
        {"message_id", optional_text(source.message_id)},
        {"mail_from", optional_text(source.mail_from)},
        {"mail_date", optional_text(source.mail_date)},
        {"mail_subject", optional_text(source.mail_subject)},
        {"attachment_name", optional_text(source.attachment_name)},
        {"ingested_at", stored.ingested_at}}}};
}

}  // namespace dmarcq::cli
