// DMARC alignment, computed by dmarcq itself (RFC 7489 section 3.1, RFC 9990)
// rather than trusted from the receiver's policy_evaluated: receivers disagree
// with each other, and showing a disagreement needs our own verdict.
#include "dmarcq/normalize.hpp"

namespace dmarcq {

bool domains_align(std::string_view domain, std::string_view header_from, AlignmentMode mode,
                   const PublicSuffixList& psl) {
  if (domain.empty() || header_from.empty()) return false;
  if (domain == header_from) return true;
  if (mode == AlignmentMode::strict) return false;
  return psl.same_organization(domain, header_from);
}

namespace {

bool is_forwarding_reason(ReasonType type) {
  return type == ReasonType::forwarded || type == ReasonType::mailing_list ||
         type == ReasonType::trusted_forwarder || type == ReasonType::local_policy;
}

// SPF authenticates the MAIL FROM identity; receivers report the HELO identity
// only when MAIL FROM was empty, so a helo result counts only when the record
// has no MAIL FROM result. An empty SPF domain means the envelope sender's.
bool counts_for_spf_alignment(const SpfAuthResult& spf, bool record_has_mfrom) {
  return spf.scope.value != SpfScope::helo || !record_has_mfrom;
}

AlignmentVerdict verdict_for(const Record& record, std::string_view policy_domain,
                             const PolicyPublished& policy, const PublicSuffixList& psl) {
  AlignmentVerdict verdict;
  // A record without header_from is judged against the policy domain the
  // report is about, which is what the receiver looked up.
  const std::string_view header_from =
      record.header_from.empty() ? policy_domain : std::string_view(record.header_from);

  bool something_passed = false;
  for (const auto& dkim : record.dkim) {
    if (dkim.result.value != DkimResult::pass) continue;
    something_passed = true;
    if (domains_align(dkim.domain, header_from, policy.adkim.value, psl))
      verdict.dkim_aligned = true;
    else if (verdict.unaligned_dkim_pass_domain.empty())
      verdict.unaligned_dkim_pass_domain = dkim.domain;
  }

  bool has_mfrom = false;
  for (const auto& spf : record.spf)
    if (spf.scope.value != SpfScope::helo) has_mfrom = true;
  for (const auto& spf : record.spf) {
    if (spf.result.value != SpfResult::pass || !counts_for_spf_alignment(spf, has_mfrom)) continue;
    something_passed = true;
    // An empty SPF domain means the envelope_from. (Not value_or(): that
    // returns a temporary, and the view would dangle.)
    std::string_view domain = spf.domain;
    if (domain.empty() && record.envelope_from) domain = *record.envelope_from;
    if (domains_align(domain, header_from, policy.aspf.value, psl))
      verdict.spf_aligned = true;
    else if (verdict.unaligned_spf_pass_domain.empty())
      verdict.unaligned_spf_pass_domain = std::string(domain);
  }

  verdict.dmarc_pass = verdict.dkim_aligned || verdict.spf_aligned;
  if (verdict.dmarc_pass) {
    verdict.traffic_class = verdict.dkim_aligned && verdict.spf_aligned ? TrafficClass::aligned
                            : verdict.dkim_aligned                      ? TrafficClass::dkim_only
                                                                        : TrafficClass::spf_only;
    return verdict;
  }
  bool forwarded = false;
  for (const auto& reason : record.reasons)
    if (is_forwarding_reason(reason.type.value)) forwarded = true;
  verdict.traffic_class = forwarded          ? TrafficClass::forwarded
                          : something_passed ? TrafficClass::misaligned
                                             : TrafficClass::impersonation;
  return verdict;
}

}  // namespace

void compute_alignment(AggregateReport& report, const PublicSuffixList& psl) {
  for (Record& record : report.records)
    record.verdict = verdict_for(record, report.policy.domain, report.policy, psl);
}

}  // namespace dmarcq
