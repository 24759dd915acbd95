// Tests for src/mime: fixtures from tests/data/mail (regenerate with
// make_mail.py), hostile inputs from ../shared/mimetic/gen, and a WARN-skipping
// sweep over the shared corpus.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "dmarcq/mime.hpp"

namespace fs = std::filesystem;
using dmarcq::ErrorKind;
using dmarcq::Limits;
using dmarcq::MailMessage;
using dmarcq::MailPart;
using dmarcq::parse_mail;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

MailMessage parse_fixture(const std::string& name) {
  const std::string raw = read_file(fs::path(DMARCQ_TEST_DATA) / "mail" / name);
  REQUIRE_FALSE(raw.empty());
  auto parsed = parse_mail(raw, Limits{});
  if (!parsed) FAIL(name << ": " << parsed.error().describe());
  return std::move(parsed).value();
}

bool is_gzip(const std::string& body) { return body.rfind("\x1f\x8b", 0) == 0; }
bool is_zip(const std::string& body) { return body.rfind("PK\x03\x04", 0) == 0; }
bool is_report_payload(const std::string& body) {
  return is_gzip(body) || is_zip(body) || body.rfind("<", 0) == 0;
}

const MailPart* find_part(const MailMessage& mail, const std::string& content_type) {
  for (const auto& part : mail.parts)
    if (part.content_type == content_type) return &part;
  return nullptr;
}

std::size_t count_payloads(const MailMessage& mail) {
  std::size_t count = 0;
  for (const auto& part : mail.parts)
    if (is_gzip(part.body) || is_zip(part.body)) ++count;
  return count;
}

}  // namespace

TEST_CASE("Google-style zip attachment, CRLF") {
  const auto mail = parse_fixture("google_zip.eml");
  CHECK(mail.content_type == "multipart/mixed");
  CHECK(mail.message_id == "report-fixture@example.net");
  CHECK(mail.subject == "Report domain: example.com Submitter: google.com");
  CHECK(mail.date == "Wed, 15 Nov 2023 00:00:00 +0000");
  REQUIRE(mail.parts.size() == 2);
  CHECK(mail.parts[0].path == "1");
  CHECK(mail.parts[1].path == "2");
  CHECK(mail.parts[1].content_type == "application/zip");
  CHECK(mail.parts[1].filename == "google.com!example.com!1700000000!1700086399.zip");
  CHECK(is_zip(mail.parts[1].body));
}

TEST_CASE("Microsoft-style gzip with folded Content-Type and a QP text part") {
  const auto mail = parse_fixture("microsoft_gzip.eml");
  REQUIRE(mail.parts.size() == 2);
  CHECK(mail.parts[0].body.find("Microsoft Corporation.\r\n") != std::string::npos);
  CHECK(mail.parts[1].content_type == "application/gzip");
  CHECK(mail.parts[1].filename == "protection.outlook.com!example.com!1700000000!1700086399.xml.gz");
  CHECK(is_gzip(mail.parts[1].body));
}

TEST_CASE("Yahoo-style single-part zip, LF line ends") {
  const auto mail = parse_fixture("yahoo_single_part.eml");
  REQUIRE(mail.parts.size() == 1);
  CHECK(mail.parts[0].path == "1");
  CHECK(mail.parts[0].content_type == "application/zip");
  CHECK(mail.parts[0].filename == "yahoo.com!example.com!1700000000!1700086399.xml.zip");
  CHECK(is_zip(mail.parts[0].body));
}

TEST_CASE("quoted-printable text/xml and inline XML bodies") {
  const auto qp = parse_fixture("qp_text_xml.eml");
  REQUIRE(qp.parts.size() == 1);
  CHECK(qp.parts[0].content_type == "text/xml");
  CHECK(qp.parts[0].body.rfind("<?xml", 0) == 0);
  CHECK(qp.parts[0].body.find("<feedback> =\xc3\xa9\n") != std::string::npos);

  const auto inline_xml = parse_fixture("inline_xml.eml");
  REQUIRE(inline_xml.parts.size() == 1);
  CHECK(inline_xml.parts[0].content_type == "text/xml");
  CHECK(inline_xml.parts[0].body.rfind("<?xml", 0) == 0);
  CHECK(inline_xml.parts[0].body.find("</feedback>") != std::string::npos);
}

TEST_CASE("mislabelled attachments keep their bytes") {
  const auto octet = parse_fixture("octet_stream_gzip.eml");
  REQUIRE(octet.parts.size() == 1);
  CHECK(octet.parts[0].content_type == "application/octet-stream");
  CHECK(is_gzip(octet.parts[0].body));
  const auto text = parse_fixture("text_plain_mislabelled.eml");
  REQUIRE(text.parts.size() == 1);
  CHECK(text.parts[0].content_type == "text/plain");
  CHECK(text.parts[0].filename == "report.gz");
  CHECK(is_gzip(text.parts[0].body));
}

TEST_CASE("RFC 2231 and RFC 2047 filenames and headers") {
  const auto rfc2231 = parse_fixture("rfc2231_filename.eml");
  REQUIRE(rfc2231.parts.size() == 1);
  CHECK(rfc2231.parts[0].filename == "b\xc3\xbc" "cher.example!1700000000!1700086399.xml.gz");
  CHECK(is_gzip(rfc2231.parts[0].body));

  const auto rfc2047 = parse_fixture("rfc2047_filename.eml");
  CHECK(rfc2047.from == "J\xc3\xbcrgen <j@example.net>");
  CHECK(rfc2047.subject == "Report domain: b\xc3\xbc" "cher.example");
  REQUIRE(rfc2047.parts.size() == 1);
  CHECK(rfc2047.parts[0].filename == "r\xc3\xa9sum\xc3\xa9 \xe2\x82\xac.xml.gz");
}

TEST_CASE("decode_rfc2047") {
  using dmarcq::decode_rfc2047;
  CHECK(decode_rfc2047("plain text") == "plain text");
  CHECK(decode_rfc2047("=?UTF-8?B?SsO8cmdlbg==?= <a@example.com>") == "J\xc3\xbcrgen <a@example.com>");
  CHECK(decode_rfc2047("=?utf-8?q?a?= =?utf-8?q?b?=") == "ab");  // blanks between words vanish
  CHECK(decode_rfc2047("x =?iso-8859-1?q?=E9?= y") == "x \xc3\xa9 y");
  // A multi-byte character split across two words.
  CHECK(decode_rfc2047("=?UTF-8?B?w6?= =?UTF-8?B?k=?=").size() <= 4);
  CHECK(decode_rfc2047("=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?=") == "\xc3\xa9");
  CHECK(decode_rfc2047("=?x-unknown?Q?caf=E9?=") == "caf\xe9");  // unknown charset: bytes kept
  CHECK(decode_rfc2047("=?broken") == "=?broken");
  CHECK(decode_rfc2047("=?utf-8?X?abc?=") == "=?utf-8?X?abc?=");
}

TEST_CASE("nested multipart gets dotted paths") {
  const auto mail = parse_fixture("nested_multipart.eml");
  REQUIRE(mail.parts.size() == 3);
  CHECK(mail.parts[0].path == "1.1");
  CHECK(mail.parts[0].content_type == "text/plain");
  CHECK(mail.parts[1].path == "1.2");
  CHECK(mail.parts[1].content_type == "text/html");
  CHECK(mail.parts[2].path == "2");
  CHECK(is_gzip(mail.parts[2].body));
}

TEST_CASE("message/rfc822 attachment: raw copy plus the parts inside") {
  const auto mail = parse_fixture("rfc822_attachment.eml");
  const MailPart* raw = find_part(mail, "message/rfc822");
  REQUIRE(raw != nullptr);
  CHECK(raw->path == "2");
  CHECK(raw->body.find("Subject: Report forwarded-inner") != std::string::npos);
  CHECK(raw->body.find("Message-ID: <report-fixture@example.net>") != std::string::npos);
  const MailPart* zip = find_part(mail, "application/zip");
  REQUIRE(zip != nullptr);
  CHECK(zip->path == "2.1");
  CHECK(zip->filename == "inner.zip");
  CHECK(is_zip(zip->body));
}

TEST_CASE("two reports, missing final boundary, truncated message") {
  CHECK(count_payloads(parse_fixture("two_reports.eml")) == 2);
  const auto missing = parse_fixture("missing_final_boundary.eml");
  REQUIRE(missing.parts.size() == 1);
  CHECK(is_gzip(missing.parts[0].body));
  const auto truncated = parse_fixture("truncated.eml");
  REQUIRE(truncated.parts.size() == 1);
  CHECK(is_gzip(truncated.parts[0].body));  // a prefix of it, the archive stage will complain
}

TEST_CASE("ContentType: typo, body 'unused', mbox From_ line, non-report mail") {
  const auto typo = parse_fixture("contenttype_typo.eml");
  CHECK(typo.content_type == "multipart/mixed");
  REQUIRE(typo.parts.size() == 1);
  CHECK(typo.parts[0].path == "1");
  CHECK(typo.parts[0].filename == "typo.xml.gz");
  CHECK(is_gzip(typo.parts[0].body));

  const auto unused = parse_fixture("body_unused.eml");
  REQUIRE(unused.parts.size() == 2);
  CHECK(unused.parts[0].body.rfind("unused", 0) == 0);
  CHECK(is_gzip(unused.parts[1].body));

  const auto mbox = parse_fixture("mbox_from_line.eml");
  CHECK(mbox.from == "DMARC Reporter <noreply-dmarc@example.net>");
  REQUIRE(mbox.parts.size() == 1);
  CHECK(is_gzip(mbox.parts[0].body));

  const auto plain = parse_fixture("not_a_report.eml");
  CHECK(plain.content_type.empty());
  REQUIRE(plain.parts.size() == 1);
  CHECK(plain.parts[0].content_type.empty());
  CHECK(plain.parts[0].body.rfind("Are you free today?", 0) == 0);
  CHECK(count_payloads(plain) == 0);
}

TEST_CASE("forensic report keeps feedback-report, rfc822-headers and the original") {
  const auto mail = parse_fixture("forensic_arf.eml");
  const MailPart* feedback = find_part(mail, "message/feedback-report");
  REQUIRE(feedback != nullptr);
  CHECK(feedback->body.find("Feedback-Type: auth-failure\r\n") == 0);
  CHECK(feedback->body.find("Reported-Domain: example.com") != std::string::npos);
  const MailPart* headers = find_part(mail, "text/rfc822-headers");
  REQUIRE(headers != nullptr);
  CHECK(headers->body.find("Subject: original") != std::string::npos);
  const MailPart* original = find_part(mail, "message/rfc822");
  REQUIRE(original != nullptr);
  CHECK(original->body.find("Message-ID: <original@example.com>") != std::string::npos);
}

TEST_CASE("bad input is an Error, not a crash") {
  Limits limits;
  CHECK(parse_mail("", limits).error().kind == ErrorKind::malformed);
  CHECK(parse_mail("\r\n\r\n", limits).error().kind == ErrorKind::malformed);
  CHECK_FALSE(parse_mail("no header here at all", limits).has_value());

  limits.max_message_bytes = 100;
  CHECK(parse_mail(std::string(200, 'a'), limits).error().kind == ErrorKind::limit_exceeded);
}

TEST_CASE("transfer decoders are lenient", "[decode]") {
  // base64 with '|' and other junk inside is decoded by skipping it.
  const std::string raw =
      "From: a@example.com\r\nContent-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nQU|JD\r\n||||=\r\nQUJD\r\n";
  auto mail = parse_mail(raw, Limits{});
  REQUIRE(mail);
  REQUIRE(mail->parts.size() == 1);
  CHECK(mail->parts[0].body == "ABC");  // stops at '='

  const std::string qp =
      "From: a@example.com\nContent-Type: text/plain\nContent-Transfer-Encoding: Quoted-Printable\n\n"
      "a=3Db=\nc =ZZ =4 end=";
  mail = parse_mail(qp, Limits{});
  REQUIRE(mail);
  CHECK(mail->parts[0].body.rfind("a=bc =ZZ =4 end", 0) == 0);
}

// ---------------------------------------------------------------------------
// Hostile inputs: every generator of ../shared/mimetic/gen, plus our own.

namespace {

struct HostileRun {
  bool ok = false;
  std::optional<ErrorKind> error;
  std::size_t parts = 0;
  double seconds = 0;
  MailMessage mail;
};

HostileRun run_parse(const std::string& raw, const Limits& limits = Limits{}) {
  HostileRun run;
  const auto start = std::chrono::steady_clock::now();
  auto parsed = parse_mail(raw, limits);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.ok = parsed.has_value();
  if (run.ok) {
    run.mail = std::move(parsed).value();
    run.parts = run.mail.parts.size();
  } else {
    run.error = parsed.error().kind;
  }
  return run;
}

fs::path generator_dir() { return fs::path(DMARCQ_SHARED_DIR) / "mimetic" / "gen"; }

bool generators_available() {
  if (!fs::is_directory(generator_dir())) return false;
  return std::system("python3 -c '' >/dev/null 2>&1") == 0;
}

// Runs `gen/<script> OUT args...` and returns the generated bytes.
std::string generate(const std::string& script, const std::string& args = "") {
  const fs::path out = fs::temp_directory_path() / ("dmarcq_mime_" + script + ".eml");
  const std::string command = "python3 '" + (generator_dir() / script).string() + "' '" +
                              out.string() + "' " + args;
  REQUIRE(std::system(command.c_str()) == 0);
  std::string data = read_file(out);
  fs::remove(out);
  return data;
}

// Generous bound: the guarded paths are linear; ASan builds are slower.
constexpr double kMaxSeconds = 60.0;  // a hang detector, not a speed target: generous for ASan on a busy machine

}  // namespace

TEST_CASE("hostile: mimetic generators", "[hostile]") {
  if (!generators_available()) {
    WARN("skipped: " << generator_dir() << " or python3 not available");
    return;
  }

  SECTION("01 base64 with '|' decodes without reading out of bounds") {
    const auto run = run_parse(generate("01-base64-invalid-char.py"));
    REQUIRE(run.ok);
    REQUIRE(run.parts == 1);
    CHECK(run.mail.parts[0].body == "ABC");
  }
  SECTION("02 tiny 29-36 byte messages") {
    CHECK_NOTHROW(run_parse(generate("02-length-error-tiny.py")));
    const std::string tiny = "Content-Type: multipart/mixed\r\n\r\n\r--";
    for (std::size_t length = 0; length <= tiny.size(); ++length)
      CHECK_NOTHROW(run_parse(tiny.substr(0, length)));
  }
  SECTION("03 100,000-deep nesting is refused") {
    const auto run = run_parse(generate("03-deep-nesting.py", "100000"));
    CHECK(run.error == ErrorKind::limit_exceeded);
    CHECK(run.seconds < kMaxSeconds);
    const auto shallow = run_parse(generate("03-deep-nesting.py", "40"));
    REQUIRE(shallow.ok);
    REQUIRE(shallow.parts == 1);
    CHECK(shallow.mail.parts[0].body.rfind("leaf", 0) == 0);
  }
  SECTION("04 20 MiB header field, folded and not") {
    for (const char* folding : {"", "folded"}) {
      const auto run = run_parse(generate("04-long-header-line.py", std::to_string(20 << 20) + " " + folding));
      CHECK(run.error == ErrorKind::limit_exceeded);
      CHECK(run.seconds < kMaxSeconds);
    }
    const auto small = run_parse(generate("04-long-header-line.py", "60000 folded"));
    CHECK(small.ok);
  }
  SECTION("05 200,000 parts are refused") {
    const auto run = run_parse(generate("05-many-parts.py", "200000"));
    CHECK(run.error == ErrorKind::limit_exceeded);
    CHECK(run.seconds < kMaxSeconds);
  }
  SECTION("06 mid-line boundary is not a delimiter") {
    const auto run = run_parse(generate("06-midline-boundary.py"));
    REQUIRE(run.ok);
    REQUIRE(run.parts == 2);
    CHECK(run.mail.parts[0].body.find("xx--BOUNDARY not a delimiter") != std::string::npos);
  }
  SECTION("07 unterminated header blocks") {
    for (const char* variant : {"top", "top-noeol"}) {
      const auto run = run_parse(generate("07-unterminated-header.py", variant));
      REQUIRE(run.ok);
      CHECK(run.mail.subject == "test");
    }
    const auto part = run_parse(generate("07-unterminated-header.py", "part"));
    REQUIRE(part.ok);
    REQUIRE(part.parts == 2);
    CHECK(part.mail.parts[1].body.rfind("second part", 0) == 0);
    const auto arf = run_parse(generate("07-unterminated-header.py", "arf"));
    REQUIRE(arf.ok);
    const MailPart* feedback = find_part(arf.mail, "message/feedback-report");
    REQUIRE(feedback != nullptr);
    CHECK(feedback->body.find("Reported-Domain: example.com") != std::string::npos);
  }
  SECTION("08 RFC 2047 subject and RFC 2231 continuation filename") {
    const auto run = run_parse(generate("08-rfc2047-rfc2231.py"));
    REQUIRE(run.ok);
    CHECK(run.mail.from == "J\xc3\xbcrgen <a@example.com>");
    CHECK(run.mail.subject == "Report domain: b\xc3\xbc" "cher.example \xe2\x82\xac");
    REQUIRE(run.parts == 1);
    CHECK(run.mail.parts[0].filename == "b\xc3\xbc" "cher.example!1700000000!1700086399.xml.gz");
    CHECK(is_gzip(run.mail.parts[0].body));
  }
}

TEST_CASE("hostile: our own inputs", "[hostile]") {
  SECTION("50 MB of invalid base64") {
    std::string raw = "From: a@example.com\r\nContent-Type: application/gzip\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n";
    const std::string line = std::string(74, '|') + "!\r\n";
    while (raw.size() < 50'000'000) raw += line;
    const auto run = run_parse(raw);
    REQUIRE(run.ok);
    REQUIRE(run.parts == 1);
    CHECK(run.mail.parts[0].body.empty());
    CHECK(run.seconds < kMaxSeconds * 3);
  }
  SECTION("a boundary that never closes") {
    std::string raw = "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"never\"\r\n\r\n"
                      "--never\r\nContent-Type: text/plain\r\n\r\n";
    for (int i = 0; i < 10000; ++i) raw += "body line that goes on and on\r\n";
    const auto run = run_parse(raw);
    REQUIRE(run.ok);
    REQUIRE(run.parts == 1);
    CHECK(run.mail.parts[0].body.size() > 250000);
  }
  SECTION("a message that is only headers") {
    const auto run = run_parse("From: a@example.com\r\nSubject: only headers\r\n");
    REQUIRE(run.ok);
    CHECK(run.mail.subject == "only headers");
  }
  SECTION("multipart announced, boundary parameter missing") {
    CHECK_NOTHROW(run_parse("From: a\r\nContent-Type: multipart/mixed\r\n\r\n--\r\n\r\nx\r\n----\r\n"));
  }
  SECTION("message/rfc822 in base64 in base64 ...: walked, depth still limited") {
    // Each level grows by 4/3, so 12 levels stay small; the depth limit is
    // lowered to show the re-parse path counts levels too.
    std::string inner = "From: leaf@example.com\r\nContent-Type: text/plain\r\n\r\nleaf\r\n";
    constexpr int kLevels = 12;
    for (int level = 0; level < kLevels; ++level) {
      std::string encoded;
      static constexpr char kAlphabet[] =
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      for (std::size_t i = 0; i < inner.size(); i += 3) {
        unsigned value = static_cast<unsigned char>(inner[i]) << 16;
        if (i + 1 < inner.size()) value |= static_cast<unsigned char>(inner[i + 1]) << 8;
        if (i + 2 < inner.size()) value |= static_cast<unsigned char>(inner[i + 2]);
        encoded += kAlphabet[(value >> 18) & 63];
        encoded += kAlphabet[(value >> 12) & 63];
        encoded += i + 1 < inner.size() ? kAlphabet[(value >> 6) & 63] : '=';
        encoded += i + 2 < inner.size() ? kAlphabet[value & 63] : '=';
        if (encoded.size() % 77 == 76) encoded += "\r\n";
      }
      inner = "From: level@example.com\r\nContent-Type: message/rfc822\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n" + encoded + "\r\n";
    }
    const auto run = run_parse(inner);
    REQUIRE(run.ok);
    REQUIRE(run.parts == kLevels + 1);
    CHECK(run.mail.parts.back().body.rfind("leaf", 0) == 0);
    CHECK(run.mail.parts.back().path == "1.1.1.1.1.1.1.1.1.1.1.1.1");
    Limits shallow;
    shallow.max_mime_depth = 5;
    CHECK(run_parse(inner, shallow).error == ErrorKind::limit_exceeded);
  }
}

// ---------------------------------------------------------------------------
// Real mails from the shared corpus (read in place, never copied here).

TEST_CASE("corpus: aggregate .eml files yield a report payload", "[corpus]") {
  const fs::path corpus = fs::path(DMARCQ_SHARED_DIR) / "corpus";
  std::ifstream manifest(corpus / "MANIFEST.tsv");
  if (!manifest) {
    WARN("skipped: no corpus at " << corpus);
    return;
  }
  std::string line;
  std::getline(manifest, line);  // header
  int aggregates = 0;
  int forensics = 0;
  while (std::getline(manifest, line)) {
    std::vector<std::string> columns;
    std::stringstream fields(line);
    for (std::string column; std::getline(fields, column, '\t');) columns.push_back(column);
    if (columns.size() < 7 || columns[6].rfind("eml", 0) != 0) continue;
    const std::string& kind = columns[5];
    const std::string raw = read_file(corpus / columns[0]);
    INFO(columns[0]);
    auto parsed = parse_mail(raw, Limits{});
    if (kind == "aggregate" && columns[6].rfind("eml>", 0) == 0) {
      ++aggregates;
      REQUIRE(parsed);
      bool found = false;
      for (const auto& part : parsed->parts) found = found || is_report_payload(part.body);
      CHECK(found);
    } else if (kind == "forensic") {
      REQUIRE(parsed);
      if (columns[0].find("no_arf_part") != std::string::npos) continue;
      ++forensics;
      CHECK(find_part(*parsed, "message/feedback-report") != nullptr);
    } else {
      CHECK_NOTHROW((void)parsed.has_value());
    }
  }
  CHECK(aggregates > 0);
  CHECK(forensics > 0);
}
