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
      {"kind", "aggregate"},
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

Json failure_to_json(const StoredFailure& stored) {
  const FailureReport& r = stored.report;
  const OriginalMessage& o = r.original;
  Json auth_failures = Json::array();
  for (const auto& failure : r.auth_failures) auth_failures.push_back(std::string(failure.text()));
  Json extra = Json::array();
  for (const auto& field : r.extra_fields) extra.push_back({{"name", field.name}, {"value", field.value}});
  Json signatures = Json::array();
  for (const auto& signature : o.dkim_signatures)
    signatures.push_back({{"domain", signature.domain}, {"selector", signature.selector}});
  Json source_ip = nullptr;
  if (r.source_ip)
    source_ip = {{"address", r.source_ip->ip},
                 {"valid", r.source_ip->valid},
                 {"hostname", optional_text(r.source_ip->hostname)},
                 {"as_written", r.source_ip->text}};
  auto optional_int = [](const auto& value) { return value ? Json(*value) : Json(nullptr); };
  return Json{
      {"kind", "failure"},
      {"id", stored.id},
      {"machine_readable", r.machine_readable},
      {"feedback_type", enum_text(r.feedback_type)},
      {"user_agent", optional_text(r.user_agent)},
      {"version", optional_text(r.version)},
      {"original_envelope_id", optional_text(r.original_envelope_id)},
      {"original_mail_from", optional_text(r.original_mail_from)},
      {"original_rcpt_to", r.original_rcpt_to},
      {"arrival_date", optional_int(r.arrival_date)},
      {"arrival_date_text", optional_text(r.arrival_date_text)},
      {"reporting_mta", optional_text(r.reporting_mta)},
      {"source_ip", std::move(source_ip)},
      {"source_port", r.source_port ? Json(*r.source_port) : Json(nullptr)},
      {"incidents", optional_int(r.incidents)},
      {"authentication_results", r.authentication_results},
      {"reported_domains", r.reported_domains},
      {"reported_uris", r.reported_uris},
      {"delivery_result", enum_text(r.delivery_result)},
      {"auth_failures", std::move(auth_failures)},
      {"dkim_domains", r.dkim_domains},
      {"dkim_identity", optional_text(r.dkim_identity)},
      {"dkim_selector", optional_text(r.dkim_selector)},
      {"dkim_selector_dns", optional_text(r.dkim_selector_dns)},
      {"dkim_canonicalized_header", optional_text(r.dkim_canonicalized_header)},
      {"dkim_canonicalized_body", optional_text(r.dkim_canonicalized_body)},
      {"spf_dns", r.spf_dns},
      {"identity_alignment", r.identity_alignment ? Json(r.identity_alignment->text) : Json(nullptr)},
      {"extra_fields", std::move(extra)},
      {"original",
       {{"source", o.source},
        {"from", optional_text(o.from)},
        {"to", optional_text(o.to)},
        {"subject", optional_text(o.subject)},
        {"date", optional_text(o.date)},
        {"message_id", optional_text(o.message_id)},
        {"authentication_results", o.authentication_results},
        {"dkim_signatures", std::move(signatures)},
        {"headers", o.headers},
        {"body", optional_text(o.body)}}},
      {"human_readable", r.human_readable},
      {"source",
       {{"file", stored.source_file},
        {"mail_from", optional_text(r.mail_from)},
        {"mail_subject", optional_text(r.mail_subject)},
        {"mail_date", optional_text(r.mail_date)},
        {"message_id", optional_text(r.mail_message_id)},
        {"ingested_at", stored.ingested_at}}}};
}

}  // namespace dmarcq::cli
