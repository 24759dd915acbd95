// The failure (forensic) report model: plain structs and enums shared by the
// ARF parser (src/arf), the store and the CLI.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/model.hpp"

namespace dmarcq {

// ---- enumerations ---------------------------------------------------------

// RFC 5965 section 7.3 (IANA registry) plus RFC 6591's auth-failure.
enum class FeedbackType : std::uint8_t {
  absent, abuse, auth_failure, fraud, not_spam, other, virus, unknown
};
// RFC 6591 section 3.1 Auth-Failure; `dmarc` from RFC 7489 / RFC 9991.
enum class AuthFailure : std::uint8_t {
  absent, adsp, bodyhash, revoked, signature, spf, dmarc, unknown
};
// RFC 6591 section 3.1 Delivery-Result.
enum class DeliveryResult : std::uint8_t { absent, delivered, spam, policy, reject, other, unknown };

// "auth-failure", "not-spam", ... ("" for absent, "unknown").
std::string_view to_string(FeedbackType v);
std::string_view to_string(AuthFailure v);
std::string_view to_string(DeliveryResult v);

// Case-insensitive, trimmed; unknown text kept in raw (see Enumerated).
Enumerated<FeedbackType> parse_feedback_type(std::string_view text);
Enumerated<AuthFailure> parse_auth_failure(std::string_view text);
Enumerated<DeliveryResult> parse_delivery_result(std::string_view text);

// One "Name: value" field of a header-style block.
struct HeaderField {
  std::string name;   // as written
  std::string value;  // folded lines joined with one space, trimmed
  friend bool operator==(const HeaderField&, const HeaderField&) = default;
};

// ---- the report ---------------------------------------------------------------

// Source-IP: "192.0.2.1", "[192.0.2.1]", "192.0.2.1 (mail.example.net)".
struct SourceIp {
  std::string text;      // the field as written
  std::string ip;        // canonical (parse_ip) when valid, else the address token verbatim
  bool valid = false;
  std::array<std::uint8_t, 16> key{};  // as Record::source_ip_key; zero when !valid
  std::optional<std::string> hostname;  // from "(hostname)" after the address
  friend bool operator==(const SourceIp&, const SourceIp&) = default;
};

// Identity-Alignment (RFC 9991): "none" or a comma list of dkim / spf.
struct IdentityAlignment {
  std::string text;  // as written
  bool none = false;
  bool dkim = false;
  bool spf = false;
  std::vector<std::string> unknown;  // any other token, verbatim
  friend bool operator==(const IdentityAlignment&, const IdentityAlignment&) = default;
};

// d= and s= of one DKIM-Signature of the original message.
struct DkimSignatureRef {
  std::string domain;    // d=, as written ("" when missing)
  std::string selector;  // s=, as written ("" when missing)
  friend bool operator==(const DkimSignatureRef&, const DkimSignatureRef&) = default;
};

// The reported (original) message, from text/rfc822-headers,
// message/rfc822-headers or message/rfc822, or recovered from the text.
struct OriginalMessage {
  // Where the headers came from: "message/rfc822", "text/rfc822-headers",
  // "message/rfc822-headers", "text/plain" (a header block found in the
  // human-readable text); "" when the report carries none.
  std::string source;
  std::string headers;  // the header block as received (message/rfc822: as mimetic re-wrote it)
  std::optional<std::string> from;     // RFC 2047 decoded
  std::optional<std::string> to;       // RFC 2047 decoded
  std::optional<std::string> subject;  // RFC 2047 decoded
  std::optional<std::string> date;     // as written
  std::optional<std::int64_t> date_epoch;
  std::optional<std::string> message_id;  // without <>
  std::vector<std::string> authentication_results;
  std::vector<DkimSignatureRef> dkim_signatures;
  // The original body, when the report carried one. Personal data: callers
  // drop it unless asked to keep bodies.
  std::optional<std::string> body;
};

struct FailureReport {
  // False when the message has no message/feedback-report part and the
  // fields below were recovered from the human-readable text.
  bool machine_readable = true;

  Enumerated<FeedbackType> feedback_type;
  std::optional<std::string> user_agent;
  std::optional<std::string> version;
  std::optional<std::string> original_envelope_id;
  std::optional<std::string> original_mail_from;  // as written, "<>" kept; may be ""
  std::vector<std::string> original_rcpt_to;
  std::optional<std::string> arrival_date_text;   // as written
  std::optional<std::int64_t> arrival_date;       // UTC epoch; nullopt if unparseable
  std::optional<std::string> reporting_mta;       // as written, e.g. "dns; mx.example.net"
  std::optional<SourceIp> source_ip;
  std::optional<std::uint16_t> source_port;
  std::optional<std::int64_t> incidents;
  std::vector<std::string> authentication_results;  // repeatable (RFC 5965 3.3)
  std::vector<std::string> reported_domains;
  std::vector<std::string> reported_uris;
  Enumerated<DeliveryResult> delivery_result;
  std::vector<Enumerated<AuthFailure>> auth_failures;
  // Repeatable in the wild; one field listing several ("a; b" or "a, b") is split.
  std::vector<std::string> dkim_domains;
  std::optional<std::string> dkim_identity;
  std::optional<std::string> dkim_selector;
  std::optional<std::string> dkim_selector_dns;
  std::optional<std::string> dkim_canonicalized_header;  // base64, whitespace removed
  std::optional<std::string> dkim_canonicalized_body;    // base64, whitespace removed
  std::vector<std::string> spf_dns;  // one per DNS record consulted (RFC 6591 3.2)
  std::optional<IdentityAlignment> identity_alignment;
  std::vector<HeaderField> extra_fields;  // fields this parser does not know, in order

  std::string feedback_text;  // the decoded feedback part as received ("" when none)
  std::string human_readable;  // the reporter's text part ("" when none)
  OriginalMessage original;

  // The carrying message.
  std::optional<std::string> mail_from;
  std::optional<std::string> mail_subject;
  std::optional<std::string> mail_date;
  std::optional<std::string> mail_message_id;

  // Lenient-parse notes (bad dates, unknown values, recovered fields); never fatal.
  std::vector<std::string> diagnostics;
};

}  // namespace dmarcq
