// The README's delivery snippets (tools/mda/*) run for real: procmail and
// Dovecot's sieve-test execute them, Postfix's pipe argv is run as written.
// Only the two installation paths are rewritten to point at this build.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/process.hpp"

namespace fs = std::filesystem;
using dmarcq::test::CommandResult;
using dmarcq::test::quote;
using dmarcq::test::read_text_file;
using dmarcq::test::run_command;
using dmarcq::test::TempDir;

namespace {

const std::string kRoot = DMARCQ_SOURCE_DIR;
const std::string kSnippets = kRoot + "/tools/mda";
const std::string kMail = std::string(DMARCQ_TEST_DATA) + "/mail";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// A snippet with the binary and database paths pointed at this test.
std::string localised(const std::string& snippet, const std::string& db) {
  return replace_all(replace_all(read_text_file(kSnippets + "/" + snippet), "/usr/local/bin/dmarcq", DMARCQ_BINARY),
                     "/var/lib/dmarcq/dmarcq.db", db);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

long long stored_reports(const std::string& db) {
  const CommandResult exported = run_command(quote(DMARCQ_BINARY) + " --db " + quote(db) + " export --format json");
  if (exported.exit_code != 0) return -1;
  return static_cast<long long>(nlohmann::json::parse(exported.out).size());
}

bool have(const std::string& program) {
  return run_command("command -v " + program).exit_code == 0;
}

}  // namespace

TEST_CASE("the README shows the snippets exactly as tested", "[integration][mda]") {
  const std::string readme = read_text_file(kRoot + "/README.md");
  for (const char* snippet : {"dmarcq.sieve", "90-sieve-dmarcq.conf", "dmarcq-ingest", "procmailrc", "master.cf", "transport"}) {
    INFO("tools/mda/" << snippet);
    CHECK(readme.find(read_text_file(kSnippets + "/" + snippet)) != std::string::npos);
  }
}

TEST_CASE("procmail recipe", "[integration][mda]") {
  if (!have("procmail")) {
    if (std::getenv("CI")) FAIL("procmail missing in CI (tools/install-deps installs it)");
    WARN("SKIPPED: procmail not installed");
    return;
  }
  TempDir dir;
  const std::string db = dir.file("d.db");
  write_file(dir.file("procmailrc"), localised("procmailrc", db));
  fs::create_directories(dir.file("inbox"));
  const std::string procmail = "procmail DEFAULT=" + quote(dir.file("inbox") + "/") + " LOGFILE=" +
                               quote(dir.file("log")) + " " + quote(dir.file("procmailrc"));
  const CommandResult report = run_command(procmail, kMail + "/google_zip.eml");
  INFO(read_text_file(dir.file("log")));
  CHECK(report.exit_code == 0);
  CHECK(stored_reports(db) == 1);
  // Ordinary mail is not a report: delivered normally.
  CHECK(run_command(procmail, kMail + "/not_a_report.eml").exit_code == 0);
  CHECK(stored_reports(db) == 1);
  CHECK(!fs::is_empty(dir.file("inbox/new")));
}

TEST_CASE("Dovecot sieve script with the pipe wrapper", "[integration][mda]") {
  if (!have("sieve-test") || !have("runuser")) {
    if (std::getenv("CI")) FAIL("sieve-test missing in CI (tools/install-deps installs dovecot-sieve)");
    WARN("SKIPPED: Dovecot's sieve-test not installed");
    return;
  }
  TempDir dir;
  // Dovecot refuses to deliver as root: the test runs sieve-test as nobody.
  fs::permissions(dir.path(), fs::perms::all);
  const std::string db = dir.file("d.db");
  fs::create_directories(dir.file("pipe-bin"));
  write_file(dir.file("pipe-bin/dmarcq-ingest"), localised("dmarcq-ingest", db));
  const std::string conf = replace_all(read_text_file(kSnippets + "/90-sieve-dmarcq.conf"),
                                       "/usr/local/lib/dovecot/sieve-pipe", dir.file("pipe-bin"));
  write_file(dir.file("dovecot.conf"), "mail_location = maildir:" + dir.file("home/Maildir") + "\n" + conf);
  fs::copy_file(kSnippets + "/dmarcq.sieve", dir.file("dmarcq.sieve"));
  fs::create_directories(dir.file("home/Maildir"));
  fs::copy_file(kMail + "/microsoft_gzip.eml", dir.file("message.eml"));
  run_command("chmod -R a+rwX " + quote(dir.path()) + " && chmod 755 " + quote(dir.file("pipe-bin")) + " " +
              quote(dir.file("pipe-bin/dmarcq-ingest")));
  const CommandResult result = run_command(
      "runuser -u nobody -- env HOME=" + quote(dir.file("home")) + " sieve-test -c " + quote(dir.file("dovecot.conf")) +
      " -e -t - " + quote(dir.file("dmarcq.sieve")) + " " + quote(dir.file("message.eml")));
  INFO(result.out << result.err);
  CHECK(result.exit_code == 0);
  CHECK((result.out + result.err).find("piped message to program `dmarcq-ingest'") != std::string::npos);
  CHECK(stored_reports(db) == 1);
  CHECK(fs::exists(dir.file("home/Maildir/.DMARC")));
}

TEST_CASE("Postfix pipe(8) transport argv", "[integration][mda]") {
  TempDir dir;
  const std::string db = dir.file("d.db");
  const std::string master = localised("master.cf", db);
  const auto argv_at = master.find("argv=");
  REQUIRE(argv_at != std::string::npos);
  std::string argv = master.substr(argv_at + 5);
  argv = argv.substr(0, argv.find('\n'));
  const CommandResult result = run_command(argv, kMail + "/yahoo_single_part.eml");
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(stored_reports(db) == 1);
}
