// The domain model: plain structs for what a DMARC aggregate report says.
//
// Enumerated fields keep the receiver's verbatim string whenever it is not a
// value we know, so nothing a reporter wrote is ever dropped (Enumerated<E>).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dmarcq {

// ---- enumerations ---------------------------------------------------------
// Every enum has `absent` (element missing or empty) and `unknown` (a string
// we do not recognise; the verbatim text is kept in Enumerated::raw).

enum class AlignmentMode : std::uint8_t { absent, relaxed, strict, unknown };
enum class Policy : std::uint8_t { absent, none, quarantine, reject, unknown };
// `pass` is DMARCbis (RFC 9990): the message passed, no policy applied.
enum class Disposition : std::uint8_t { absent, none, pass, quarantine, reject, unknown };
enum class DmarcResult : std::uint8_t { absent, pass, fail, unknown };
enum class DkimResult : std::uint8_t {
  absent, none, pass, fail, policy, neutral, temperror, permerror, unknown
};
enum class SpfResult : std::uint8_t {
  absent, none, neutral, pass, fail, softfail, temperror, permerror, unknown
};
enum class SpfScope : std::uint8_t { absent, helo, mfrom, unknown };
enum class ReasonType : std::uint8_t {
  absent, forwarded, sampled_out, trusted_forwarder, mailing_list, local_policy,
  other, policy_test_mode, unknown
};
enum class Testing : std::uint8_t { absent, no, yes, unknown };
enum class DiscoveryMethod : std::uint8_t { absent, psl, treewalk, unknown };

// Our verdict per record, from our own alignment computation (see README).
enum class TrafficClass : std::uint8_t {
  aligned,        // DMARC pass, SPF and DKIM both aligned
  dkim_only,      // DMARC pass through DKIM only
  spf_only,       // DMARC pass through SPF only
  forwarded,      // DMARC fail, receiver names forwarding / list / local policy
  misaligned,     // DMARC fail, but SPF or DKIM passed for an unaligned domain
  impersonation,  // DMARC fail, nothing passed for any domain
};

// Canonical lowercase spelling of each value ("" for absent, "unknown").
std::string_view to_string(AlignmentMode v);
std::string_view to_string(Policy v);
std::string_view to_string(Disposition v);
std::string_view to_string(DmarcResult v);
std::string_view to_string(DkimResult v);
std::string_view to_string(SpfResult v);
std::string_view to_string(SpfScope v);
std::string_view to_string(ReasonType v);
std::string_view to_string(Testing v);
std::string_view to_string(DiscoveryMethod v);
std::string_view to_string(TrafficClass v);

template <typename E>
struct Enumerated {
  E value = E::absent;
  // The receiver's text, verbatim, when it is not the canonical spelling in
  // some case: always for unknown values, and for aliases ("hardfail" is
  // read as fail). Empty otherwise.
  std::string raw;

  // What the receiver said: the verbatim alias or unknown text, else the canonical name.
  [[nodiscard]] std::string_view text() const {
    return raw.empty() ? to_string(value) : std::string_view(raw);
  }
  [[nodiscard]] bool present() const { return value != E::absent; }
  friend bool operator==(const Enumerated&, const Enumerated&) = default;
};

// Case-insensitive, whitespace-trimmed parse. Known aliases are folded in
// (SPF "hardfail" -> fail, "strict" -> s) with the alias kept in raw; anything
// else becomes unknown with the trimmed text kept in raw. Empty -> absent.
Enumerated<AlignmentMode> parse_alignment_mode(std::string_view text);
Enumerated<Policy> parse_policy(std::string_view text);
Enumerated<Disposition> parse_disposition(std::string_view text);
Enumerated<DmarcResult> parse_dmarc_result(std::string_view text);
Enumerated<DkimResult> parse_dkim_result(std::string_view text);
Enumerated<SpfResult> parse_spf_result(std::string_view text);
Enumerated<SpfScope> parse_spf_scope(std::string_view text);
Enumerated<ReasonType> parse_reason_type(std::string_view text);
Enumerated<Testing> parse_testing(std::string_view text);
Enumerated<DiscoveryMethod> parse_discovery_method(std::string_view text);

// ---- report ---------------------------------------------------------------

struct DkimAuthResult {
  std::string domain;                    // d=, normalized
  std::optional<std::string> selector;   // s=
  Enumerated<DkimResult> result;
  std::optional<std::string> human_result;
  friend bool operator==(const DkimAuthResult&, const DkimAuthResult&) = default;
};

struct SpfAuthResult {
  std::string domain;
  Enumerated<SpfScope> scope;
  Enumerated<SpfResult> result;
  std::optional<std::string> human_result;
  friend bool operator==(const SpfAuthResult&, const SpfAuthResult&) = default;
};

struct PolicyOverrideReason {
  Enumerated<ReasonType> type;
  std::optional<std::string> comment;
  friend bool operator==(const PolicyOverrideReason&, const PolicyOverrideReason&) = default;
};

// Computed by dmarcq (normalize module), never read from the report.
struct AlignmentVerdict {
  bool dkim_aligned = false;
  bool spf_aligned = false;
  bool dmarc_pass = false;
  TrafficClass traffic_class = TrafficClass::impersonation;
  // The domains that passed without being aligned (for "misaligned": which
  // third party authenticated the mail). Empty when none.
  std::string unaligned_dkim_pass_domain;
  std::string unaligned_spf_pass_domain;
  friend bool operator==(const AlignmentVerdict&, const AlignmentVerdict&) = default;
};

struct Record {
  // Canonical text (RFC 5952 for IPv6, IPv4-mapped shown as IPv4) when the
  // reporter's text parsed as an address; otherwise the trimmed text verbatim.
  std::string source_ip;
  bool source_ip_valid = false;
  // 16 bytes, network order, IPv4 as ::ffff:a.b.c.d: sorts so that a CIDR is
  // a contiguous range. All zero when !source_ip_valid. When valid, it must be
  // the address source_ip spells (normalize_report sets both): the store's
  // rollup identifies an address source by these bytes.
  std::array<std::uint8_t, 16> source_ip_key{};
  std::int64_t count = 0;
  Enumerated<Disposition> disposition;
  Enumerated<DmarcResult> policy_evaluated_dkim;
  Enumerated<DmarcResult> policy_evaluated_spf;
  std::vector<PolicyOverrideReason> reasons;
  std::string header_from;
  std::optional<std::string> envelope_from;
  std::optional<std::string> envelope_to;
  std::vector<DkimAuthResult> dkim;
  std::vector<SpfAuthResult> spf;
  AlignmentVerdict verdict;
  friend bool operator==(const Record&, const Record&) = default;
};

struct PolicyPublished {
  std::string domain;
  Enumerated<AlignmentMode> adkim;
  Enumerated<AlignmentMode> aspf;
  Enumerated<Policy> p;
  Enumerated<Policy> sp;
  Enumerated<Policy> np;             // DMARCbis
  std::optional<std::int64_t> pct;   // RFC 7489 only
  std::optional<std::string> fo;
  Enumerated<Testing> testing;       // DMARCbis
  Enumerated<DiscoveryMethod> discovery_method;  // DMARCbis
  std::optional<std::string> psd;    // DMARCbis drafts: y / n / u
  std::optional<std::string> t;      // DMARCbis drafts: y / n
  friend bool operator==(const PolicyPublished&, const PolicyPublished&) = default;
};

struct AggregateReport {
  std::string xml_namespace;              // "" when none
  std::optional<std::string> version;     // <version> (RFC 9990: 1.0 / 2.0)
  std::string org_name;                   // may be empty: some receivers send <org_name/>
  std::optional<std::string> email;
  std::optional<std::string> extra_contact_info;
  std::string report_id;
  std::int64_t begin = 0;                 // UTC epoch seconds
  std::int64_t end = 0;
  std::optional<std::string> generator;   // DMARCbis
  std::vector<std::string> errors;        // <report_metadata><error>
  PolicyPublished policy;
  std::vector<Record> records;
  // Lenient-parse notes (unknown enum values, odd encodings): shown with
  // --verbose, never fatal.
  std::vector<std::string> diagnostics;
};

// Where a report came from. Filled by the ingest pipeline.
struct Provenance {
  std::string file;            // path given on the command line, or "-" for stdin
  std::string member;          // zip member name / attachment name, "" for a bare file
  std::string container;       // decode chain, e.g. "eml>zip>xml"
  std::string payload_sha256;  // hex sha256 of the XML bytes after unpacking
  // From the carrying email, when there was one.
  std::optional<std::string> message_id;
  std::optional<std::string> mail_from;
  std::optional<std::string> mail_date;
  std::optional<std::string> mail_subject;
  std::optional<std::string> attachment_name;
};

}  // namespace dmarcq
