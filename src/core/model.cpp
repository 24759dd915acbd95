#include "dmarcq/model.hpp"

#include <initializer_list>
#include <utility>

#include "dmarcq/text.hpp"

namespace dmarcq {

namespace {

template <typename E>
using Spellings = std::initializer_list<std::pair<std::string_view, E>>;

template <typename E>
std::string_view name_of(E value, Spellings<E> spellings) {
  if (value == E::unknown) return "unknown";
  for (const auto& [spelling, v] : spellings)
    if (v == value) return spelling;
  return "";
}

// Looks `text` up case-insensitively after trimming; the first spelling of
// each value in the table is its canonical name.
template <typename E>
Enumerated<E> parse_enum(std::string_view text, Spellings<E> spellings) {
  text = trim(text);
  if (text.empty()) return {};
  for (const auto& [spelling, value] : spellings) {
    if (!iequals(text, spelling)) continue;
    // An alias keeps the receiver's word; a canonical spelling in any case does not.
    const bool canonical = iequals(spelling, name_of(value, spellings));
    return {value, canonical ? std::string() : std::string(text)};
  }
  return {E::unknown, std::string(text)};
}


const Spellings<AlignmentMode> kAlignmentModes = {
    {"r", AlignmentMode::relaxed}, {"s", AlignmentMode::strict},
    {"relaxed", AlignmentMode::relaxed}, {"strict", AlignmentMode::strict}};
const Spellings<Policy> kPolicies = {
    {"none", Policy::none}, {"quarantine", Policy::quarantine}, {"reject", Policy::reject}};
const Spellings<Disposition> kDispositions = {
    {"none", Disposition::none}, {"pass", Disposition::pass},
    {"quarantine", Disposition::quarantine}, {"reject", Disposition::reject}};
const Spellings<DmarcResult> kDmarcResults = {{"pass", DmarcResult::pass},
                                              {"fail", DmarcResult::fail}};
const Spellings<DkimResult> kDkimResults = {
    {"none", DkimResult::none},           {"pass", DkimResult::pass},
    {"fail", DkimResult::fail},           {"policy", DkimResult::policy},
    {"neutral", DkimResult::neutral},     {"temperror", DkimResult::temperror},
    {"permerror", DkimResult::permerror}, {"hardfail", DkimResult::fail},
    {"temp-error", DkimResult::temperror}, {"perm-error", DkimResult::permerror}};
const Spellings<SpfResult> kSpfResults = {
    {"none", SpfResult::none},         {"neutral", SpfResult::neutral},
    {"pass", SpfResult::pass},         {"fail", SpfResult::fail},
    {"softfail", SpfResult::softfail}, {"temperror", SpfResult::temperror},
    {"permerror", SpfResult::permerror}, {"hardfail", SpfResult::fail},
    {"temp-error", SpfResult::temperror}, {"perm-error", SpfResult::permerror},
    {"error", SpfResult::temperror}};
const Spellings<SpfScope> kSpfScopes = {{"helo", SpfScope::helo}, {"mfrom", SpfScope::mfrom},
                                        {"ehlo", SpfScope::helo}};
const Spellings<ReasonType> kReasonTypes = {
    {"forwarded", ReasonType::forwarded},
    {"sampled_out", ReasonType::sampled_out},
    {"trusted_forwarder", ReasonType::trusted_forwarder},
    {"mailing_list", ReasonType::mailing_list},
    {"local_policy", ReasonType::local_policy},
    {"other", ReasonType::other},
    {"policy_test_mode", ReasonType::policy_test_mode}};
const Spellings<Testing> kTestings = {{"n", Testing::no}, {"y", Testing::yes}};
const Spellings<DiscoveryMethod> kDiscoveryMethods = {{"psl", DiscoveryMethod::psl},
                                                      {"treewalk", DiscoveryMethod::treewalk}};
const Spellings<TrafficClass> kTrafficClasses = {
    {"aligned", TrafficClass::aligned},       {"dkim-only", TrafficClass::dkim_only},
    {"spf-only", TrafficClass::spf_only},     {"forwarded", TrafficClass::forwarded},
    {"misaligned", TrafficClass::misaligned}, {"impersonation", TrafficClass::impersonation}};

}  // namespace

std::string_view to_string(AlignmentMode v) { return name_of(v, kAlignmentModes); }
std::string_view to_string(Policy v) { return name_of(v, kPolicies); }
std::string_view to_string(Disposition v) { return name_of(v, kDispositions); }
std::string_view to_string(DmarcResult v) { return name_of(v, kDmarcResults); }
std::string_view to_string(DkimResult v) { return name_of(v, kDkimResults); }
std::string_view to_string(SpfResult v) { return name_of(v, kSpfResults); }
std::string_view to_string(SpfScope v) { return name_of(v, kSpfScopes); }
std::string_view to_string(ReasonType v) { return name_of(v, kReasonTypes); }
std::string_view to_string(Testing v) { return name_of(v, kTestings); }
std::string_view to_string(DiscoveryMethod v) { return name_of(v, kDiscoveryMethods); }
std::string_view to_string(TrafficClass v) {
  for (const auto& [spelling, value] : kTrafficClasses)
    if (value == v) return spelling;
  return "";
}

Enumerated<AlignmentMode> parse_alignment_mode(std::string_view t) { return parse_enum(t, kAlignmentModes); }
Enumerated<Policy> parse_policy(std::string_view t) { return parse_enum(t, kPolicies); }
Enumerated<Disposition> parse_disposition(std::string_view t) { return parse_enum(t, kDispositions); }
Enumerated<DmarcResult> parse_dmarc_result(std::string_view t) { return parse_enum(t, kDmarcResults); }
Enumerated<DkimResult> parse_dkim_result(std::string_view t) { return parse_enum(t, kDkimResults); }
Enumerated<SpfResult> parse_spf_result(std::string_view t) { return parse_enum(t, kSpfResults); }
Enumerated<SpfScope> parse_spf_scope(std::string_view t) { return parse_enum(t, kSpfScopes); }
Enumerated<ReasonType> parse_reason_type(std::string_view t) { return parse_enum(t, kReasonTypes); }
Enumerated<Testing> parse_testing(std::string_view t) { return parse_enum(t, kTestings); }
Enumerated<DiscoveryMethod> parse_discovery_method(std::string_view t) {
  return parse_enum(t, kDiscoveryMethods);
}

}  // namespace dmarcq
