// Tests for src/arf: the feedback field block, RFC 5322 dates, every ARF
// field, the deviations seen in the wild (fixtures composed for dmarcq in
// tests/data/arf, regenerate with make_arf.py), and a sweep over the
// failure reports of the shared corpus against their expected/*.json.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "dmarcq/arf.hpp"
#include "dmarcq/ip.hpp"
#include "dmarcq/mime.hpp"
#include "dmarcq/text.hpp"

namespace fs = std::filesystem;
using namespace dmarcq;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

MailMessage parse_fixture(const std::string& name) {
  const std::string raw = read_file(fs::path(DMARCQ_TEST_DATA) / "arf" / name);
  REQUIRE_FALSE(raw.empty());
  auto parsed = parse_mail(raw, Limits{});
  if (!parsed) FAIL(name << ": " << parsed.error().describe());
  return std::move(parsed).value();
}

FailureReport only_report(const std::string& name) {
  const MailMessage message = parse_fixture(name);
  auto reports = parse_failure_reports(message);
  if (!reports) FAIL(name << ": " << reports.error().describe());
  REQUIRE(reports->size() == 1);
  return std::move(reports->front());
}

FailureReport from_fields(std::string_view block) {
  FailureReport report;
  for (const HeaderField& field : parse_feedback_fields(block)) apply_feedback_field(report, field);
  return report;
}

std::vector<std::string> texts(const std::vector<Enumerated<AuthFailure>>& values) {
  std::vector<std::string> out;
  for (const auto& value : values) out.emplace_back(value.text());
  return out;
}

using Strings = std::vector<std::string>;

}  // namespace

// ---- the field block ----------------------------------------------------------

TEST_CASE("parse_feedback_fields: unfolds, keeps order, any line end, case as written") {
  const auto fields = parse_feedback_fields(
      "Feedback-Type: auth-failure\r\n"
      "authentication-results: mx.example.net;\r\n"
      "\tdkim=fail\r\n"
      "    header.d=example.org\r\n"
      "Version:1\n"
      "X-Odd :  spaced  \r"
      "Reported-Domain: example.org");  // no final line end, no blank line
  REQUIRE(fields.size() == 5);
  CHECK(fields[0] == HeaderField{"Feedback-Type", "auth-failure"});
  CHECK(fields[1] == HeaderField{"authentication-results", "mx.example.net; dkim=fail header.d=example.org"});
  CHECK(fields[2] == HeaderField{"Version", "1"});
  CHECK(fields[3] == HeaderField{"X-Odd", "spaced"});
  CHECK(fields[4] == HeaderField{"Reported-Domain", "example.org"});  // mimetic would lose it
}

TEST_CASE("parse_feedback_fields: blank, space-only and junk lines are skipped") {
  const auto fields = parse_feedback_fields(
      "\r\n \r\nFeedback-Type: abuse\r\n \r\n  stray continuation\r\nnot a field\r\n"
      "Bad Name: x\r\nEmpty:\r\n");
  REQUIRE(fields.size() == 2);
  CHECK(fields[0] == HeaderField{"Feedback-Type", "abuse"});
  CHECK(fields[1] == HeaderField{"Empty", ""});
  CHECK(parse_feedback_fields("").empty());
}

// ---- dates --------------------------------------------------------------------

TEST_CASE("parse_rfc5322_date: RFC 5322 forms") {
  CHECK(parse_rfc5322_date("Tue, 03 Nov 2026 08:14:59 +0000") == 1793693699);
  CHECK(parse_rfc5322_date("Sat, 7 Nov 2026 16:48:42 +0800") == 1794041322);
  CHECK(parse_rfc5322_date("03 Nov 2026 11:20:27 +0100") == 1793701227);  // no day name
  CHECK(parse_rfc5322_date("Mon, 9 Nov 2026 15:10:06 -0600") == 1794258606);
  CHECK(parse_rfc5322_date("  Tue,  3 Nov 2026 09:14:58 +0100  ") == 1793693698);
  CHECK(parse_rfc5322_date("Tue 3 Nov 2026 09:14:58 +0100") == 1793693698);  // no comma
  CHECK(parse_rfc5322_date("Tuesday, 3 November 2026 09:14:58 +0100") == 1793693698);
  CHECK(parse_rfc5322_date("Tue, 3 Nov 2026 09:14 +0100") == 1793693640);  // no seconds
  CHECK(parse_rfc5322_date("Tue, 3 Nov 2026 09:14:58 +01:00") == 1793693698);
  CHECK(parse_rfc5322_date("Tue, 3 Nov 2026 09:14:58 +0100 (CET)") == 1793693698);
  CHECK(parse_rfc5322_date("Tue, 3 Nov 2026 09:14:58 +0100 CET") == 1793693698);
  CHECK(parse_rfc5322_date("8 Oct 2011 20:15:58 +0000 (GMT)") == 1318104958);
  CHECK(parse_rfc5322_date("Tue, 3 Nov 2026 08:14:58") == 1793693698);  // no zone: UTC
  CHECK(parse_rfc5322_date("Thu, 29 Feb 2024 12:00:00 +0000") == 1709208000);
  CHECK(parse_rfc5322_date("Tue Nov  3 08:14:58 2026") == 1793693698);  // asctime
}

TEST_CASE("parse_rfc5322_date: obsolete zones and years (RFC 5322 4.3)") {
  CHECK(parse_rfc5322_date("Thu, 8 Mar 2005 14:00:00 EDT") == 1110304800);
  CHECK(parse_rfc5322_date("Wed, 11 Nov 2026 09:58:12 EST") == 1794409092);
  CHECK(parse_rfc5322_date("Wed, 11 Nov 2026 06:58:12 PST") == 1794409092);
  CHECK(parse_rfc5322_date("Wed, 11 Nov 2026 07:58:12 PDT") == 1794409092);
  CHECK(parse_rfc5322_date("Wed, 11 Nov 2026 08:58:12 CST") == 1794409092);
  CHECK(parse_rfc5322_date("Wed, 11 Nov 2026 07:58:12 MST") == 1794409092);
  CHECK(parse_rfc5322_date("Wed, 11 Nov 2026 14:58:12 GMT") == 1794409092);
  CHECK(parse_rfc5322_date("Wed, 11 Nov 2026 14:58:12 UT") == 1794409092);
  CHECK(parse_rfc5322_date("Wed, 11 Nov 2026 14:58:12 Z") == 1794409092);
  CHECK(parse_rfc5322_date("Wed, 11 Nov 2026 14:58:12 A") == 1794409092);  // military: -0000
  CHECK(parse_rfc5322_date("Fri, 21 Nov 97 09:55:06 -0600") == 880127706);
  CHECK(parse_rfc5322_date("Sat, 21 Nov 26 15:55:06 +0000") == parse_rfc5322_date("21 Nov 2026 15:55:06 +0000"));
  CHECK(parse_rfc5322_date("Fri, 21 Nov 097 09:55:06 -0600") == 880127706);  // 3 digits: +1900
}

TEST_CASE("parse_rfc5322_date: rejects what is not a date") {
  for (const char* text : {"", "yesterday", "2026-11-03", "Tue, 31 Nov 2026 10:00:00 +0000",
                           "Tue, 29 Feb 2025 10:00:00 +0000", "Tue, 3 Nov 2026 24:00:00 +0000",
                           "Tue, 3 Nov 2026 10:60:00 +0000", "Tue, 3 Foo 2026 10:00:00 +0000",
                           "Tue, 3 Nov 2026 10:00:00 +01x0", "Tue, 3 Nov 2026 10:00:00 +0000 junk more",
                           "Tue, 3 Nov 2026", "Tue, 0 Nov 2026 10:00:00 +0000"}) {
    INFO(text);
    CHECK_FALSE(parse_rfc5322_date(text).has_value());
  }
}

// ---- each feedback field ------------------------------------------------------------

TEST_CASE("every RFC 5965 / 6591 / 9991 field of a composed report") {
  const FailureReport r = only_report("rfc6591_full.eml");
  CHECK(r.machine_readable);
  CHECK(r.feedback_type.value == FeedbackType::auth_failure);
  CHECK(r.feedback_type.text() == "auth-failure");
  CHECK(r.user_agent == "ExampleReporter/2.1");
  CHECK(r.version == "1");
  CHECK(r.original_envelope_id == "4XyZ1a2b3C");
  CHECK(r.original_mail_from == "<bounce@mail.example.org>");
  CHECK(r.original_rcpt_to == Strings{"<alice@receiver.example.net>", "<bob@receiver.example.net>"});
  CHECK(r.arrival_date_text == "Tue, 03 Nov 2026 08:14:59 +0000");
  CHECK(r.arrival_date == 1793693699);
  CHECK(r.reporting_mta == "dns; mx1.receiver.example.net");
  REQUIRE(r.source_ip);
  CHECK(r.source_ip->text == "192.0.2.25 (mail.example.org)");
  CHECK(r.source_ip->ip == "192.0.2.25");
  CHECK(r.source_ip->valid);
  CHECK(r.source_ip->key == parse_ip("192.0.2.25")->bytes);
  CHECK(r.source_ip->hostname == "mail.example.org");
  CHECK(r.source_port == 49152);
  CHECK(r.incidents == 3);
  CHECK(r.authentication_results ==
        Strings{"mx1.receiver.example.net; dkim=fail (signature) header.d=example.org "
                "header.s=sel2026; spf=fail smtp.mailfrom=mail.example.org; dmarc=fail "
                "header.from=example.org"});
  CHECK(r.reported_domains == Strings{"example.org", "mail.example.org"});
  CHECK(r.reported_uris == Strings{"https://example.org/invoice"});
  CHECK(r.delivery_result.value == DeliveryResult::reject);
  CHECK(texts(r.auth_failures) == Strings{"signature", "dmarc"});
  CHECK(r.dkim_domains == Strings{"example.org", "esp.example.com"});
  CHECK(r.dkim_identity == "@example.org");
  CHECK(r.dkim_selector == "sel2026");
  CHECK(r.dkim_selector_dns == "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC");
  // base64, folded in the report, whitespace removed here
  CHECK(r.dkim_canonicalized_header == "ZnJvbTpCaWxsaW5nIDxiaWxsaW5nQGV4YW1wbGUub3JnPg0Kc3ViamVjdDpJbnZvaWNlDQo=");
  CHECK(r.dkim_canonicalized_body == "SGVsbG8sDQp0aGlzIGJvZHkgd2FzIGNoYW5nZWQgaW4gdHJhbnNpdC4NCg==");
  CHECK(r.spf_dns == Strings{"txt : mail.example.org : \"v=spf1 ip4:198.51.100.0/24 -all\""});
  REQUIRE(r.identity_alignment);
  CHECK(r.identity_alignment->none);
  CHECK_FALSE(r.identity_alignment->dkim);
  CHECK_FALSE(r.identity_alignment->spf);
  CHECK(r.extra_fields == std::vector<HeaderField>{{"X-Receiver-Ticket", "12345"},
                                                   {"X-Receiver-Note", "first line second line"}});
  CHECK(r.diagnostics.empty());
  CHECK(r.feedback_text.find("Feedback-Type: auth-failure") != std::string::npos);
  CHECK(r.human_readable.find("authentication failure report") != std::string::npos);
}

TEST_CASE("the original message of a message/rfc822 part, and the carrying message") {
  const FailureReport r = only_report("rfc6591_full.eml");
  const OriginalMessage& o = r.original;
  CHECK(o.source == "message/rfc822");
  CHECK(o.from == "Billing \xC3\x9C" "bersicht <billing@example.org>");
  CHECK(o.to == "alice@receiver.example.net");
  CHECK(o.subject == "Rechnung f\xC3\xBCr November (second part)");
  CHECK(o.date == "Tue, 3 Nov 2026 09:14:58 +0100");
  CHECK(o.date_epoch == 1793693698);
  CHECK(o.message_id == "invoice-77@mail.example.org");
  CHECK(o.authentication_results ==
        Strings{"mx1.receiver.example.net; dkim=fail header.d=example.org"});
  CHECK(o.dkim_signatures == std::vector<DkimSignatureRef>{{"example.org", "sel2026"},
                                                           {"esp.example.com", "es1"}});
  CHECK(o.headers.find("Received: from mail.example.org") != std::string::npos);
  CHECK(o.headers.find("Please pay") == std::string::npos);
  REQUIRE(o.body);
  CHECK(o.body->find("Please pay the attached invoice.") != std::string::npos);

  CHECK(r.mail_from == "DMARC Reporter <dmarc-reports@receiver.example.net>");
  CHECK(r.mail_subject == "Failure report for example.org \xE2\x80\x93 192.0.2.25");
  CHECK(r.mail_date == "Tue, 3 Nov 2026 09:15:00 +0100");
  CHECK(r.mail_message_id == "ruf-0001@receiver.example.net");
}

TEST_CASE("single fields: Source-IP forms") {
  auto source = [](std::string_view value) {
    return from_fields("Source-IP: " + std::string(value)).source_ip.value();
  };
  CHECK(source("192.0.2.1").ip == "192.0.2.1");
  CHECK_FALSE(source("192.0.2.1").hostname);
  CHECK(source("[192.0.2.1]").ip == "192.0.2.1");
  CHECK(source("2001:DB8:0:0:0:0:0:1 (mx.example.org)").ip == "2001:db8::1");
  CHECK(source("2001:DB8::1 (mx.example.org)").hostname == "mx.example.org");
  CHECK(source("IPv6:2001:db8::1").ip == "2001:db8::1");
  CHECK(source("::ffff:192.0.2.9").ip == "192.0.2.9");
  CHECK(source("192.0.2.1(mx.example.org)").hostname == "mx.example.org");
  const SourceIp junk = source("unknown (host.example)");
  CHECK_FALSE(junk.valid);
  CHECK(junk.ip == "unknown");
  CHECK(junk.hostname == "host.example");
  CHECK(junk.key == std::array<std::uint8_t, 16>{});
  CHECK(from_fields("Source-IP: nope").diagnostics.size() == 1);
}

TEST_CASE("single fields: enumerations keep unknown values verbatim") {
  const FailureReport r = from_fields(
      "Feedback-Type: AUTH-FAILURE\nDelivery-Result: smg-policy-action\n"
      "Auth-Failure: adsp, BodyHash\nAuth-Failure: revoked\nAuth-Failure: spf\n"
      "Auth-Failure: dkim\n");
  CHECK(r.feedback_type.value == FeedbackType::auth_failure);
  CHECK(r.delivery_result.value == DeliveryResult::unknown);
  CHECK(r.delivery_result.text() == "smg-policy-action");
  REQUIRE(r.auth_failures.size() == 5);
  CHECK(r.auth_failures[0].value == AuthFailure::adsp);
  CHECK(r.auth_failures[1].value == AuthFailure::bodyhash);
  CHECK(r.auth_failures[2].value == AuthFailure::revoked);
  CHECK(r.auth_failures[3].value == AuthFailure::spf);
  CHECK(r.auth_failures[4].value == AuthFailure::unknown);
  CHECK(r.auth_failures[4].text() == "dkim");

  for (auto [text, value] : {std::pair{"abuse", FeedbackType::abuse}, {"fraud", FeedbackType::fraud},
                             {"not-spam", FeedbackType::not_spam}, {"other", FeedbackType::other},
                             {"virus", FeedbackType::virus}, {"opt-out", FeedbackType::unknown}})
    CHECK(parse_feedback_type(text).value == value);
  for (auto [text, value] :
       {std::pair{"delivered", DeliveryResult::delivered}, {"spam", DeliveryResult::spam},
        {"policy", DeliveryResult::policy}, {"reject", DeliveryResult::reject},
        {"other", DeliveryResult::other}, {"", DeliveryResult::absent}})
    CHECK(parse_delivery_result(text).value == value);
  CHECK(parse_auth_failure("signature").value == AuthFailure::signature);
  CHECK(parse_auth_failure("DMARC").value == AuthFailure::dmarc);
}

TEST_CASE("single fields: Identity-Alignment (RFC 9991)") {
  auto alignment = [](std::string_view value) {
    return from_fields("Identity-Alignment: " + std::string(value)).identity_alignment.value();
  };
  CHECK(alignment("none").none);
  const IdentityAlignment both = alignment("dkim, spf");
  CHECK((both.dkim && both.spf && !both.none && both.unknown.empty()));
  CHECK(alignment("spf,dkim").text == "spf,dkim");
  CHECK((alignment("DKIM").dkim && !alignment("DKIM").spf));
  CHECK(alignment("dkim, arc").unknown == Strings{"arc"});
  CHECK_FALSE(from_fields("Version: 1").identity_alignment);
}

TEST_CASE("single fields: numbers, repeats and aliases") {
  const FailureReport r = from_fields(
      "Source-Port: 70000\nIncidents: many\nUser-Agent: A/1\nUser-Agent: B/2\n"
      "DKIM-Domain: a.example; b.example\nDKIM-Domain: c.example, d.example\n"
      "Received-Date: Thu, 8 Mar 2005 14:00:00 EDT\nSPF-DNS: txt : a.example : \"v=spf1 -all\"\n"
      "SPF-DNS: txt : b.example : \"v=spf1 ~all\"\nOriginal-Mail-From:\n");
  CHECK_FALSE(r.source_port);
  CHECK_FALSE(r.incidents);
  CHECK(r.user_agent == "A/1");
  CHECK(r.dkim_domains == Strings{"a.example", "b.example", "c.example", "d.example"});
  CHECK(r.arrival_date == 1110304800);  // Received-Date: the draft name, in RFC 6591's example
  CHECK(r.spf_dns.size() == 2);
  CHECK(r.original_mail_from == "");  // given, but empty (the null reverse-path)
  // nothing is dropped: the refused values are kept as extra fields
  CHECK(r.extra_fields == std::vector<HeaderField>{{"Source-Port", "70000"},
                                                   {"Incidents", "many"},
                                                   {"User-Agent", "B/2"}});
  CHECK(r.diagnostics.size() >= 4);
  CHECK(from_fields("Source-Port: 25\nIncidents: 0").source_port == 25);
  CHECK(from_fields("Arrival-Date: soon").arrival_date_text == "soon");
  CHECK_FALSE(from_fields("Arrival-Date: soon").arrival_date);
}

// ---- deviations -----------------------------------------------------------------------

TEST_CASE("deviation: sent as multipart/mixed with a base64 feedback part") {
  const MailMessage message = parse_fixture("mixed_base64.eml");
  CHECK(message.content_type == "multipart/mixed");
  CHECK(looks_like_failure_report(message));
  const FailureReport r = only_report("mixed_base64.eml");
  CHECK(r.machine_readable);
  CHECK(r.feedback_type.value == FeedbackType::auth_failure);
  CHECK(r.user_agent == "ExampleMixed/1.0");
  CHECK(r.arrival_date == 1794041322);
  CHECK(r.source_ip->ip == "2001:db8::25");
  CHECK(r.source_ip->text == "2001:DB8:0:0::25");
  CHECK(r.authentication_results ==
        Strings{"receiver.example.net; dkim=pass header.d=esp.example.com; spf=pass "
                "smtp.mailfrom=news@example.org"});
  CHECK(r.dkim_domains == Strings{"esp.example.com", "example.org"});
  CHECK(r.delivery_result.value == DeliveryResult::delivered);
  CHECK((r.identity_alignment->spf && r.identity_alignment->dkim));
  CHECK(r.auth_failures.empty());
  // original from text/rfc822-headers
  CHECK(r.original.source == "text/rfc822-headers");
  CHECK(r.original.from == "\"Example News\" <news@example.org>");
  CHECK(r.original.subject == "Weekly news");
  CHECK(r.original.date_epoch == 1794041320);
  CHECK(r.original.message_id == "news-2026-45@example.org");
  CHECK(r.original.dkim_signatures == std::vector<DkimSignatureRef>{{"esp.example.com", "mkt"}});
  CHECK_FALSE(r.original.body);
}

TEST_CASE("deviation: relayed through IBM Domino with space-only separator lines") {
  // The MIME layer reads a space-only line in header state as a blank line
  // (src/mime/prescan.cpp); without that the feedback part came back empty.
  const MailMessage message = parse_fixture("domino_spaces.eml");
  CHECK(message.content_type == "multipart/report");
  REQUIRE(message.parts.size() >= 3);
  CHECK(message.parts[1].content_type == "message/feedback-report");
  CHECK(message.parts[1].body.find("Reported-Domain: example.org") != std::string::npos);

  const FailureReport r = only_report("domino_spaces.eml");
  CHECK(r.machine_readable);
  CHECK(r.user_agent == "Lua/1.0");
  CHECK(r.version == "1.0");
  CHECK(r.source_ip->ip == "192.0.2.77");
  CHECK(r.reported_domains == Strings{"example.org"});
  CHECK(r.arrival_date == 1793701227);
  CHECK(r.delivery_result.text() == "smg-policy-action");
  CHECK(texts(r.auth_failures) == Strings{"dmarc"});
  CHECK(r.original.source == "message/rfc822");
  CHECK(r.original.from == "\"Portal \xC3\x9C" "bersicht\" <portal@example.org>");
  CHECK(r.original.subject == "Portal notice");
  CHECK(r.original.date_epoch == 1793701227);  // "03 Nov 2026 ..." without a day name
  CHECK(r.original.message_id == "11.22.33.44@relay.example.org");
  REQUIRE(r.original.body);
  CHECK(r.original.body->find("portal task list") != std::string::npos);
  CHECK(r.mail_subject ==
        "DMARC Failure Report for example.org (mail-from=portal@example.org, ip=192.0.2.77)");
}

TEST_CASE("mime: a space-only line ends a header block, elsewhere it is body text") {
  const std::string raw =
      "From: a@example.org\r\nSubject: s\r\n \r\nline one\r\n \r\nline two\r\n";
  auto message = parse_mail(raw, Limits{});
  REQUIRE(message);
  CHECK(message->subject == "s");
  REQUIRE(message->parts.size() == 1);
  CHECK(message->parts[0].body == "line one\r\n \r\nline two\r\n");
  // a folded field with real continuation text is still one field
  auto folded = parse_mail("Subject: one\r\n two\r\n\r\nbody\r\n", Limits{});
  REQUIRE(folded);
  CHECK(folded->subject == "one two");
}

TEST_CASE("deviation: no machine-readable part, fields recovered from the text") {
  const MailMessage message = parse_fixture("no_arf_part.eml");
  CHECK(looks_like_failure_report(message));
  const FailureReport r = only_report("no_arf_part.eml");
  CHECK_FALSE(r.machine_readable);
  CHECK_FALSE(r.feedback_type.present());  // the text does not say
  REQUIRE(r.source_ip);
  CHECK(r.source_ip->ip == "198.51.100.68");
  CHECK(r.reported_domains == Strings{"example.org"});
  CHECK(r.arrival_date == 1794258969);
  CHECK(r.feedback_text.empty());
  // the copy of the headers in the text is read as the original message,
  // and its Authentication-Results are not taken for the report's
  CHECK(r.authentication_results.empty());
  CHECK(r.original.source == "text/plain");
  CHECK(r.original.from == "<ceo@example.org>");
  CHECK(r.original.subject == "Urgent payment");
  CHECK(r.original.date_epoch == 1794258606);
  CHECK(r.original.message_id == "FAKE-0004@example.org");
  CHECK(r.original.authentication_results.size() == 1);
  CHECK_FALSE(r.original.body);
  CHECK_FALSE(r.diagnostics.empty());
}

TEST_CASE("deviation: no machine-readable part, Source-IP only in the subject") {
  MailMessage message;
  message.content_type = "text/plain";
  message.subject = "DMARC Failure Report for example.org (mail-from=x@example.org, ip=203.0.113.5)";
  message.parts.push_back(MailPart{"text/plain", "", "1", "A message failed DMARC.\n"});
  auto reports = parse_failure_reports(message);
  REQUIRE(reports);
  REQUIRE(reports->size() == 1);
  CHECK_FALSE(reports->front().machine_readable);
  CHECK(reports->front().source_ip->ip == "203.0.113.5");
  CHECK(reports->front().original.source.empty());
}

TEST_CASE("RFC 5965 abuse report: still ARF, with message/rfc822-headers") {
  const FailureReport r = only_report("abuse_rfc5965.eml");
  CHECK(r.machine_readable);
  CHECK(r.feedback_type.value == FeedbackType::abuse);
  CHECK(r.user_agent == "AbuseDesk/3.0");
  CHECK(r.source_ip->ip == "198.51.100.9");
  CHECK(r.arrival_date == 1794409092);  // from Received-Date
  CHECK(r.reported_uris == Strings{"http://example.com/watches", "mailto:sales@example.com"});
  CHECK(r.original_rcpt_to == Strings{"<frank@receiver.example.net>"});
  CHECK(r.extra_fields == std::vector<HeaderField>{{"Removal-Recipient", "frank@receiver.example.net"}});
  CHECK(r.original.source == "message/rfc822-headers");
  CHECK(r.original.subject == "Cheap watches");
  CHECK(r.original.message_id == "spam-1@example.com");
}

TEST_CASE("not a failure report") {
  const MailMessage aggregate = parse_fixture("aggregate_not_failure.eml");
  CHECK_FALSE(looks_like_failure_report(aggregate));
  auto reports = parse_failure_reports(aggregate);
  REQUIRE_FALSE(reports);
  CHECK(reports.error().kind == ErrorKind::not_a_report);

  MailMessage plain;
  plain.content_type = "text/plain";
  plain.subject = "Lunch on Friday?";
  plain.parts.push_back(MailPart{"text/plain", "", "1", "See you at noon.\n"});
  CHECK_FALSE(looks_like_failure_report(plain));

  MailMessage bounce;  // a DSN about DMARC is a bounce, not a failure report
  bounce.content_type = "multipart/report";
  bounce.subject = "Delivery failure: rejected by DMARC policy";
  bounce.parts.push_back(MailPart{"text/plain", "", "1", "rejected"});
  bounce.parts.push_back(MailPart{"message/delivery-status", "", "2", "Action: failed\n"});
  CHECK_FALSE(looks_like_failure_report(bounce));

  // a forwarded message that itself contains an ARF report does not count
  MailMessage forwarded;
  forwarded.content_type = "multipart/mixed";
  forwarded.subject = "Fwd: look";
  forwarded.parts.push_back(MailPart{"message/rfc822", "", "1", "Subject: x\n\n"});
  forwarded.parts.push_back(MailPart{"message/feedback-report", "", "1.2", "Feedback-Type: abuse\n"});
  CHECK_FALSE(looks_like_failure_report(forwarded));
}

TEST_CASE("an empty feedback part falls back to the text") {
  MailMessage message;
  message.content_type = "multipart/report";
  message.subject = "Abuse report";
  message.parts.push_back(MailPart{"text/plain", "", "1", "Source IP: 192.0.2.44\n"});
  message.parts.push_back(MailPart{"message/feedback-report", "", "2", "\r\n \r\n"});
  auto reports = parse_failure_reports(message);
  REQUIRE(reports);
  REQUIRE(reports->size() == 1);
  CHECK_FALSE(reports->front().machine_readable);
  CHECK(reports->front().source_ip->ip == "192.0.2.44");
}

// ---- the shared corpus ------------------------------------------------------------------

namespace {

fs::path corpus_dir() {
  if (const char* env = std::getenv("DMARCQ_CORPUS")) return env;
  return fs::path(DMARCQ_SHARED_DIR) / "corpus";
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

Strings as_list(const nlohmann::json& value) {
  if (value.is_array()) return value.get<Strings>();
  return {value.get<std::string>()};
}

bool iequal_lists(const Strings& a, const Strings& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!iequals(a[i], b[i])) return false;
  return true;
}

std::string optional_text(const std::optional<std::string>& value) {
  return value ? "\"" + *value + "\"" : "null";
}

std::string joined(const Strings& values) {
  std::string out = "[";
  for (const auto& value : values) out += "\"" + value + "\" ";
  return out + "]";
}

// "" when the report has the expected value for this key, else why not.
std::string mismatch(const FailureReport& r, const std::string& key, const nlohmann::json& value) {
  auto same = [](const std::optional<std::string>& ours, const nlohmann::json& want) {
    return ours == want.get<std::string>() ? std::string()
                                           : "got " + optional_text(ours);
  };
  auto same_list = [](const Strings& ours, const nlohmann::json& want) {
    return ours == as_list(want) ? std::string() : "got " + joined(ours);
  };
  if (key == "feedback-type")
    return iequals(r.feedback_type.text(), value.get<std::string>())
               ? ""
               : "got " + std::string(r.feedback_type.text());
  if (key == "user-agent") return same(r.user_agent, value);
  if (key == "version") return same(r.version, value);
  if (key == "original-envelope-id") return same(r.original_envelope_id, value);
  if (key == "original-mail-from") return same(r.original_mail_from, value);
  if (key == "dkim-identity") return same(r.dkim_identity, value);
  if (key == "dkim-selector") return same(r.dkim_selector, value);
  if (key == "reporting-mta") return same(r.reporting_mta, value);
  if (key == "original-rcpt-to") return same_list(r.original_rcpt_to, value);
  if (key == "reported-domain") return same_list(r.reported_domains, value);
  if (key == "reported-uri") return same_list(r.reported_uris, value);
  if (key == "authentication-results") return same_list(r.authentication_results, value);
  if (key == "arrival-date") {
    if (r.arrival_date_text != value.get<std::string>()) return "got " + optional_text(r.arrival_date_text);
    return r.arrival_date ? "" : "date not parsed";
  }
  if (key == "delivery-result")
    return iequals(r.delivery_result.text(), value.get<std::string>())
               ? ""
               : "got " + std::string(r.delivery_result.text());
  if (key == "auth-failure") {
    Strings ours;
    for (const auto& failure : r.auth_failures) ours.emplace_back(failure.text());
    return iequal_lists(ours, as_list(value)) ? "" : "got " + joined(ours);
  }
  if (key == "source-ip") {
    if (!r.source_ip) return "got null";
    const std::string text = value.get<std::string>();
    if (r.source_ip->text != text) return "got \"" + r.source_ip->text + "\"";
    const auto ip = parse_ip(text.substr(0, text.find_first_of(" (")));
    if (!ip || !r.source_ip->valid || r.source_ip->ip != ip->to_string())
      return "canonical address " + r.source_ip->ip;
    const auto open = text.find('(');
    if (open != std::string::npos &&
        r.source_ip->hostname != text.substr(open + 1, text.find(')') - open - 1))
      return "hostname " + optional_text(r.source_ip->hostname);
    return "";
  }
  if (key == "dkim-domain") {
    Strings want;  // one field may list several domains: "a; b"
    for (const std::string& entry : as_list(value)) {
      std::size_t start = 0;
      while (start <= entry.size()) {
        std::size_t end = entry.find_first_of(";,", start);
        if (end == std::string::npos) end = entry.size();
        const std::string_view piece = trim(std::string_view(entry).substr(start, end - start));
        if (!piece.empty()) want.emplace_back(piece);
        start = end + 1;
      }
    }
    return r.dkim_domains == want ? "" : "got " + joined(r.dkim_domains);
  }
  if (key == "identity-alignment") {
    if (!r.identity_alignment) return "got null";
    return r.identity_alignment->text == value.get<std::string>()
               ? ""
               : "got \"" + r.identity_alignment->text + "\"";
  }
  return "no mapping for this expected key";
}

}  // namespace

TEST_CASE("corpus: every failure (ARF) report matches its expected facts") {
  const fs::path corpus = corpus_dir();
  if (!fs::exists(corpus / "MANIFEST.tsv")) {
    if (in_ci()) FAIL("corpus missing at " << corpus << " (CI=true)");
    WARN("SKIPPED: no corpus at " << corpus);
    return;
  }
  std::ifstream manifest(corpus / "MANIFEST.tsv");
  std::string line;
  std::getline(manifest, line);  // header
  int checked = 0;
  int fields_checked = 0;
  while (std::getline(manifest, line)) {
    std::vector<std::string> columns;
    std::stringstream row(line);
    for (std::string column; std::getline(row, column, '\t');) columns.push_back(column);
    if (columns.size() < 7) continue;
    const std::string& local_path = columns[0];
    const std::string& kind = columns[5];
    if (kind != "forensic" && kind != "other") continue;
    const fs::path expected_path = corpus / "expected" / (local_path + ".json");
    if (!fs::exists(expected_path)) continue;
    const auto expected = nlohmann::json::parse(read_file(expected_path));
    if (!expected.contains("feedback_reports")) continue;  // not a failure report

    INFO(local_path);
    const std::string raw = read_file(corpus / local_path);
    auto message = parse_mail(raw, Limits{});
    REQUIRE(message);
    CHECK(message->from == expected.at("from").get<std::string>());
    CHECK(message->subject == expected.at("subject").get<std::string>());
    CHECK(message->content_type == expected.at("top_content_type").get<std::string>());

    auto reports = parse_failure_reports(*message);
    REQUIRE(reports);
    const auto& want = expected.at("feedback_reports");
    if (want.empty()) {
      REQUIRE(reports->size() == 1);
      CHECK_FALSE(reports->front().machine_readable);
      CHECK(reports->front().source_ip.has_value());
    } else {
      REQUIRE(reports->size() == want.size());
      for (std::size_t i = 0; i < want.size(); ++i) {
        const FailureReport& report = (*reports)[i];
        CHECK(report.machine_readable);
        for (const auto& [key, value] : want[i].items()) {
          INFO("field " << key << " expected " << value.dump());
          CHECK(mismatch(report, key, value) == "");
          ++fields_checked;
        }
      }
    }
    const Strings parts = expected.at("original_message_parts").get<Strings>();
    for (const FailureReport& report : *reports) {
      if (parts.empty()) {
        CHECK((report.original.source.empty() || report.original.source == "text/plain"));
      } else {
        CHECK(report.original.source == parts.front());
        CHECK(!report.original.headers.empty());
        CHECK((report.original.from || report.original.message_id || report.original.date));
      }
    }
    ++checked;
  }
  WARN("corpus: " << checked << " failure reports, " << fields_checked << " fields checked");
  CHECK(checked >= 13);
}

TEST_CASE("hostile: long texts and many parts stay linear") {
  // 200,000 header-like lines that never form a usable block: the search for
  // the copied headers must not restart at every line.
  std::string text;
  for (int i = 0; i < 200000; ++i) text += "Received: from x\n";
  text += "not a field\n";
  MailMessage message;
  message.content_type = "multipart/report";
  message.subject = "DMARC failure report";
  message.parts.push_back(MailPart{"text/plain", "", "1", text});
  for (int i = 0; i < 5000; ++i)
    message.parts.push_back(MailPart{"text/plain", "", "2." + std::to_string(i), "x"});
  auto reports = parse_failure_reports(message);
  REQUIRE(reports);
  CHECK(reports->front().original.source.empty());

  MailMessage many;
  many.content_type = "multipart/report";
  for (int i = 0; i < 5000; ++i)
    many.parts.push_back(MailPart{"message/feedback-report", "", std::to_string(i + 1),
                                  "Feedback-Type: abuse\n"});
  auto all = parse_failure_reports(many);
  REQUIRE(all);
  CHECK(all->size() == 5000);
}
