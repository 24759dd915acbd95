// Tests for src/archive: sniff_format() and unpack().
// Fixtures: tests/data/archive (regenerate with make_fixtures.py there).
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "dmarcq/archive.hpp"

using dmarcq::ContentFormat;
using dmarcq::ErrorKind;
using dmarcq::Limits;
using dmarcq::sniff_format;
using dmarcq::unpack;

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string fixture(const std::string& name) {
  return read_file(std::filesystem::path(DMARCQ_TEST_DATA) / "archive" / name);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Unpacks and requires an error of `kind`; returns its message for more checks.
dmarcq::Error unpack_error(std::string_view bytes, ErrorKind kind, const Limits& limits = {}) {
  auto result = unpack(bytes, limits);
  REQUIRE_FALSE(result.has_value());
  INFO("error: " << result.error().describe());
  CHECK(result.error().kind == kind);
  return result.error();
}

}  // namespace

TEST_CASE("sniff_format decides from content", "[archive][sniff]") {
  using namespace std::string_literals;
  CHECK(sniff_format("") == ContentFormat::empty);
  CHECK(sniff_format(" \r\n\t ") == ContentFormat::empty);
  CHECK(sniff_format("\xEF\xBB\xBF\n") == ContentFormat::empty);

  CHECK(sniff_format("<?xml version=\"1.0\"?><feedback/>") == ContentFormat::xml);
  CHECK(sniff_format("\n  <feedback/>") == ContentFormat::xml);
  CHECK(sniff_format("\xEF\xBB\xBF<?xml?>") == ContentFormat::xml);
  CHECK(sniff_format("\xEF\xBB\xBF \r\n<feedback/>") == ContentFormat::xml);
  CHECK(sniff_format("\xFF\xFE<\0?\0x\0"s) == ContentFormat::xml);        // UTF-16 LE + BOM
  CHECK(sniff_format("\xFE\xFF\0<\0?\0x"s) == ContentFormat::xml);        // UTF-16 BE + BOM
  CHECK(sniff_format("<\0?\0x\0m\0"s) == ContentFormat::xml);             // UTF-16 LE
  CHECK(sniff_format("\0<\0?\0x\0m"s) == ContentFormat::xml);             // UTF-16 BE
  CHECK(sniff_format("\xFF\xFE\n\0 \0<\0f\0"s) == ContentFormat::xml);    // BOM, spaces

  CHECK(sniff_format("\x1f\x8b\x08\0\0\0\0\0"s) == ContentFormat::gzip);
  CHECK(sniff_format("PK\x03\x04\x14\0"s) == ContentFormat::zip);
  CHECK(sniff_format("PK\x05\x06"s + std::string(18, '\0')) == ContentFormat::zip);
  CHECK(sniff_format("\x78\x9c\xed\xc1") == ContentFormat::zlib);
  CHECK(sniff_format("\x78\xda\x01\x02") == ContentFormat::zlib);
  CHECK(sniff_format("\x78\x01\x01\x02") == ContentFormat::zlib);
  CHECK(sniff_format("\x78\x5e\x01\x02") == ContentFormat::zlib);
  CHECK(sniff_format("\x78\x9d\x01\x02") == ContentFormat::unknown);  // bad FCHECK

  CHECK(sniff_format("{\"organization-name\":\"x\"}") == ContentFormat::json);
  CHECK(sniff_format("  [1, 2]") == ContentFormat::json);
  CHECK(sniff_format("From MAILER-DAEMON Thu Jan  1 00:00:00 2024\n") == ContentFormat::mbox);
  for (const char* header : {"Received: from mx", "Return-Path: <a@b>", "From: a@b",
                             "MIME-Version: 1.0", "X-Foo:bar", "DKIM-Signature: v=1"}) {
    INFO(header);
    CHECK(sniff_format(header) == ContentFormat::mail);
  }
  CHECK(sniff_format("Hello world, no colon here\n") == ContentFormat::unknown);
  CHECK(sniff_format("Subject line: with space in name") == ContentFormat::unknown);
  CHECK(sniff_format(":starts with colon") == ContentFormat::unknown);
  CHECK(sniff_format("\x00\x01\x02\x03"s) == ContentFormat::unknown);

  CHECK(std::string(dmarcq::to_string(ContentFormat::gzip)) == "gz");
  CHECK(std::string(dmarcq::to_string(ContentFormat::xml)) == "xml");
  CHECK(std::string(dmarcq::to_string(ContentFormat::unknown)) == "unknown");
}

TEST_CASE("plain documents come back unchanged", "[archive]") {
  using namespace std::string_literals;
  for (const std::string& text : {"<feedback/>"s, "\xEF\xBB\xBF<feedback/>"s,
                                  "\xFF\xFE<\0f\0/\0>\0"s, "{\"a\":1}"s}) {
    auto result = unpack(text, {});
    REQUIRE(result.has_value());
    REQUIRE(result->documents.size() == 1);
    CHECK(result->documents[0].bytes == text);
    CHECK(result->documents[0].name.empty());
  }
  CHECK(unpack("<feedback/>", {})->documents[0].chain == "xml");
  CHECK(unpack("{\"a\":1}", {})->documents[0].chain == "json");
  CHECK(unpack("{\"a\":1}", {})->documents[0].format == ContentFormat::json);
}

TEST_CASE("gzip, gzip in gzip, trailing bytes, multi-member, zlib", "[archive]") {
  struct Case {
    const char* file;
    const char* chain;
    const char* report_id;
  };
  for (const Case& c : {Case{"report.xml.gz", "gz>xml", "plain-1"},
                        Case{"report.xml.gz.gz", "gz>gz>xml", "double-gz"},
                        Case{"trailing-crlf.xml.gz", "gz>xml", "mimecast-style"},
                        Case{"multi-member.xml.gz", "gz>xml", "plain-1"},
                        Case{"bom.xml.gz", "gz>xml", "with-bom"},
                        Case{"report.zlib", "zlib>xml", "old-aol"},
                        Case{"nested4.xml.gz", "gz>gz>gz>gz>xml", "five-deep"}}) {
    INFO(c.file);
    auto result = unpack(fixture(c.file), {});
    REQUIRE(result.has_value());
    REQUIRE(result->documents.size() == 1);
    const auto& document = result->documents[0];
    CHECK(document.chain == c.chain);
    CHECK(document.format == ContentFormat::xml);
    CHECK(document.name.empty());
    CHECK(contains(document.bytes, std::string("<report_id>") + c.report_id + "</report_id>"));
    CHECK(document.bytes.ends_with("</feedback>\n"));  // complete: nothing cut or appended
  }
  // The two members of the multi-member gzip join into the whole report.
  auto joined = unpack(fixture("multi-member.xml.gz"), {});
  CHECK(joined->documents[0].bytes.starts_with("<?xml version=\"1.0\""));
  CHECK(unpack(fixture("bom.xml.gz"), {})->documents[0].bytes.starts_with("\xEF\xBB\xBF<?xml"));

  // Longer stray bytes after the member (a signature, NUL padding) are ignored too.
  using namespace std::string_literals;
  for (const std::string& junk : {"\r\n-- \r\nSent from the gateway\r\n"s, std::string(512, '\0')}) {
    auto padded = unpack(fixture("report.xml.gz") + junk, {});
    REQUIRE(padded.has_value());
    CHECK(padded->documents.at(0).bytes.ends_with("</feedback>\n"));
  }
}

TEST_CASE("zip with many members, junk, directories and non-XML", "[archive][zip]") {
  auto result = unpack(fixture("multi.zip"), {});
  REQUIRE(result.has_value());
  REQUIRE(result->documents.size() == 3);  // archive order
  CHECK(result->documents[0].name == "a.xml");
  CHECK(result->documents[1].name == "reports/b.xml");
  CHECK(result->documents[2].name == "c.json");
  CHECK(result->documents[0].chain == "zip>xml");
  CHECK(result->documents[2].chain == "zip>json");
  CHECK(contains(result->documents[1].bytes, "<report_id>zip-b</report_id>"));

  const auto& skipped = result->skipped;
  REQUIRE(skipped.size() == 4);
  CHECK(skipped[0] == "reports/: directory");
  CHECK(skipped[1] == "__MACOSX/: directory");
  CHECK(skipped[2] == "__MACOSX/._a.xml: macOS metadata");
  CHECK(skipped[3].starts_with("notes.txt: not XML (text starting \"Generated by a test"));
}

TEST_CASE("zip member names are just names", "[archive][zip]") {
  SECTION("an empty member name (streamed zip with data descriptor)") {
    auto result = unpack(fixture("empty-name.zip"), {});
    REQUIRE(result.has_value());
    REQUIRE(result->documents.size() == 1);
    CHECK(result->documents[0].name.empty());
    CHECK(result->documents[0].chain == "zip>xml");
    CHECK(contains(result->documents[0].bytes, "<report_id>no-name</report_id>"));
  }
  SECTION("a folder named like an XML file is a directory") {
    auto result = unpack(fixture("folder-xml.zip"), {});
    REQUIRE(result.has_value());
    REQUIRE(result->documents.size() == 1);
    CHECK(result->documents[0].name == "subfolder.xml/report.xml");
    REQUIRE(result->skipped.size() == 1);
    CHECK(result->skipped[0] == "subfolder.xml/: directory");
  }
  SECTION("../ and absolute names are read, nothing is written to disk") {
    auto result = unpack(fixture("traversal.zip"), {});
    REQUIRE(result.has_value());
    REQUIRE(result->documents.size() == 2);
    CHECK(result->documents[0].name == "../escape.xml");
    CHECK(result->documents[1].name == "/etc/absolute.xml");
    CHECK_FALSE(std::filesystem::exists("/etc/absolute.xml"));
    CHECK_FALSE(std::filesystem::exists("../escape.xml"));
  }
  SECTION("a UTF-8 member name survives the C locale") {
    auto result = unpack(fixture("non-ascii-name.zip"), {});
    REQUIRE(result.has_value());
    REQUIRE(result->documents.size() == 1);
    CHECK(result->documents[0].name == "rapport-\xC3\xA9t\xC3\xA9.xml");
  }
}

TEST_CASE("archives inside zips are unpacked recursively", "[archive][zip]") {
  auto result = unpack(fixture("nested.zip"), {});
  REQUIRE(result.has_value());
  REQUIRE(result->documents.size() == 2);
  CHECK(result->documents[0].name == "inner.xml.gz");
  CHECK(result->documents[0].chain == "zip>gz>xml");
  CHECK(contains(result->documents[0].bytes, "<report_id>zip-gz</report_id>"));
  CHECK(result->documents[1].name == "inner.zip!/deep.xml");
  CHECK(result->documents[1].chain == "zip>zip>xml");

  auto error = unpack_error(fixture("nested-no-report.zip"), ErrorKind::not_a_report);
  CHECK(contains(error.message, "zip holds no XML report"));
  CHECK(contains(error.message, "inner.zip: zip holds no XML report"));
  CHECK(contains(error.message, "readme.txt: not XML"));
}

TEST_CASE("payloads without a report are rejected with what was seen", "[archive][errors]") {
  using namespace std::string_literals;
  CHECK(unpack_error("", ErrorKind::not_a_report).message == "empty file");
  CHECK(contains(unpack_error("  \n", ErrorKind::not_a_report).message, "empty file"));
  CHECK(unpack_error("\x00\x01\x02\xff junk"s, ErrorKind::not_a_report).message ==
        "not a report: binary data (starts with 0x00 0x01 0x02 0xff 0x20 0x6a 0x75 0x6e)");
  CHECK(contains(unpack_error("hello, world", ErrorKind::not_a_report).message,
                 "not a report: text starting \"hello, world\""));
  CHECK(contains(unpack_error("Received: from x\r\n\r\nbody", ErrorKind::not_a_report).message,
                 "an email message"));

  auto text_gz = unpack_error(fixture("text.txt.gz"), ErrorKind::not_a_report);
  CHECK(text_gz.message ==
        "gzip holds no XML report (content: text starting \"This is not a report, just text.\")");

  auto not_xml = unpack_error(fixture("not-xml.zip"), ErrorKind::not_a_report);
  CHECK(not_xml.message.starts_with("zip holds no XML report (skipped: notes.txt: not XML (text"));

  auto empty_member = unpack_error(fixture("empty-member.zip"), ErrorKind::not_a_report);
  CHECK(empty_member.message == "zip holds no XML report (skipped: empty.xml: empty)");

  auto empty_zip = unpack_error("PK\x05\x06"s + std::string(18, '\0'), ErrorKind::not_a_report);
  CHECK(empty_zip.message == "zip holds no XML report (no members)");
}

TEST_CASE("corrupt and truncated archives are malformed", "[archive][errors]") {
  using namespace std::string_literals;
  for (const char* file : {"corrupt.xml.gz", "truncated.xml.gz", "truncated.zip", "bad-crc.zip"}) {
    INFO(file);
    auto error = unpack_error(fixture(file), ErrorKind::malformed);
    CHECK(error.message.starts_with("corrupt "));
  }
  auto member = unpack_error(fixture("nested-corrupt.zip"), ErrorKind::malformed);
  CHECK(member.where == "broken.xml.gz");
  CHECK(member.message.starts_with("corrupt gzip: "));

  CHECK(unpack_error("\x1f\x8b\x08\x00"s, ErrorKind::malformed).message.starts_with("corrupt gzip"));
  CHECK(unpack_error("\x1f\x8b\xff\xff"s, ErrorKind::malformed).message.starts_with("corrupt gzip"));
  CHECK(unpack_error("x\x9c\x01\x02\x03"s, ErrorKind::malformed).message.starts_with("corrupt zlib"));
  CHECK(unpack_error("PK\x03\x04"s, ErrorKind::malformed).message.starts_with("corrupt zip"));
}

TEST_CASE("every prefix of an archive fails cleanly", "[archive][errors]") {
  for (const char* file : {"nested.zip", "report.xml.gz.gz", "report.zlib", "empty-name.zip"}) {
    const std::string whole = fixture(file);
    for (std::size_t size = 0; size < whole.size(); ++size) {
      auto result = unpack(std::string_view(whole).substr(0, size), {});
      // A prefix may still hold a whole member; if it does, it must be intact.
      if (result.has_value()) {
        for (const auto& document : result->documents) {
          INFO(file << " cut at " << size);
          CHECK(document.bytes.ends_with("</feedback>\n"));
        }
      }
    }
  }
}

TEST_CASE("limits stop bombs early, with bounded memory", "[archive][limits]") {
  SECTION("1 GiB of zeros as 64 gzip members is stopped at max_decompressed_bytes") {
    const std::string member = fixture("zeros-16m.gz");  // 16 MiB of zeros, ~16 KB
    std::string bomb;
    bomb.reserve(member.size() * 64);
    for (int i = 0; i < 64; ++i) bomb += member;
    Limits limits;
    limits.max_compression_ratio = 1'000'000;  // let the size limit speak
    auto error = unpack_error(bomb, ErrorKind::limit_exceeded, limits);
    CHECK(contains(error.message, "decompressed data exceeds the limit of 268435456 bytes"));
  }
  SECTION("a single member above the ratio limit") {
    auto error = unpack_error(fixture("zeros-16m.gz"), ErrorKind::limit_exceeded);
    CHECK(contains(error.message, "compression ratio exceeds the limit of 1000:1"));
  }
  SECTION("a tiny file that compresses very well is fine") {
    // gzip of ~300 KB of XML whitespace: ratio far above 1000, but under 1 MiB.
    auto result = unpack(fixture("report.xml.gz"), Limits{.max_compression_ratio = 1});
    CHECK(result.has_value());
  }
  SECTION("nested bomb: gzip of gzip of 1 GiB of zeros") {
    auto error = unpack_error(fixture("bomb-1g.gz.gz"), ErrorKind::limit_exceeded);
    CHECK(contains(error.message, "exceeds the limit"));
    Limits small;
    small.max_decompressed_bytes = 8 << 20;
    unpack_error(fixture("bomb-1g.gz.gz"), ErrorKind::limit_exceeded, small);
  }
  SECTION("nested bomb inside a zip names the member") {
    auto error = unpack_error(fixture("bomb-in.zip"), ErrorKind::limit_exceeded);
    CHECK(error.where == "bomb.xml.gz.gz");
  }
  SECTION("memory stayed bounded") {
    // The bombs above expand to 1 GiB each; only ~256 MiB may ever be held.
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    CHECK(usage.ru_maxrss < 700L * 1024);  // KiB
  }
}

TEST_CASE("member count and nesting limits", "[archive][limits]") {
  CHECK(unpack(fixture("many-members.zip"), {})->documents.size() == 20);
  Limits ten;
  ten.max_archive_members = 10;
  auto members = unpack_error(fixture("many-members.zip"), ErrorKind::limit_exceeded, ten);
  CHECK(members.message == "archive has more than 10 members");

  auto nesting = unpack_error(fixture("nested5.xml.gz"), ErrorKind::limit_exceeded);
  CHECK(contains(nesting.message, "nested deeper than 4 levels"));
  Limits shallow;
  shallow.max_nesting = 1;
  unpack_error(fixture("nested.zip"), ErrorKind::limit_exceeded, shallow);
  CHECK(unpack(fixture("multi.zip"), shallow).has_value());
}

// The shared corpus of real reports is not part of the repository: skip
// (with a warning) where it is absent.
TEST_CASE("shared corpus archives unpack to their reports", "[archive][corpus]") {
  const std::filesystem::path corpus = std::filesystem::path(DMARCQ_SHARED_DIR) / "corpus";
  if (!std::filesystem::exists(corpus / "MANIFEST.tsv")) {
    WARN("shared corpus not found at " << corpus << ": skipped");
    return;
  }
  std::istringstream manifest(read_file(corpus / "MANIFEST.tsv"));
  std::string line;
  std::getline(manifest, line);  // header
  int positive = 0;
  int negative = 0;
  while (std::getline(manifest, line)) {
    std::vector<std::string> column;
    std::istringstream fields(line);
    for (std::string field; std::getline(fields, field, '\t');) column.push_back(field);
    REQUIRE(column.size() >= 7);
    const std::string& path = column[0];
    const std::string& container = column[6];
    INFO(path << " (" << container << ")");
    const std::string bytes = read_file(corpus / path);

    if (container == "zip>empty" || container == "zip>data" || container == "gz>data") {
      ++negative;
      auto result = unpack(bytes, {});
      REQUIRE_FALSE(result.has_value());
      CHECK(result.error().kind == ErrorKind::not_a_report);
      CHECK(contains(result.error().message, "holds no XML report"));
      continue;
    }
    if (container != "gz>xml" && container != "zip>xml" && container != "zlib>xml" &&
        container != "gz>gz>xml" && container != "zip>xml;zip>data") {
      continue;
    }
    ++positive;
    // One document per report in the expected file; 1 where there is none
    // (the XML inside is not well-formed).
    std::size_t expected_documents = 1;
    const auto expected_path = corpus / "expected" / (path + ".json");
    if (std::filesystem::exists(expected_path)) {
      expected_documents = nlohmann::json::parse(read_file(expected_path))["reports"].size();
    }
    auto result = unpack(bytes, {});
    REQUIRE(result.has_value());
    CHECK(result->documents.size() == expected_documents);
    const std::string first_layer = container.substr(0, container.find('>') + 1);
    for (const auto& document : result->documents) {
      CHECK(document.format == ContentFormat::xml);
      CHECK(document.chain.starts_with(first_layer));
      CHECK(document.chain.ends_with(">xml"));
    }
  }
  CHECK(positive >= 21);  // guards against a silently empty run
  CHECK(negative >= 3);
}
