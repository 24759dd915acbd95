// Integration tests for mail ingestion: Maildir batches (moves, flags,
// re-runs, --failed-to, --move-to), mbox files, MDA mode's exit-code contract
// and concurrent deliveries. Emails come from tools/gen-reports (seeded) and
// tests/data/mail.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <vector>

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include "../support/process.hpp"
#include "../support/sqlite_wal.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using dmarcq::test::CommandResult;
using dmarcq::test::quote;
using dmarcq::test::read_text_file;
using dmarcq::test::run_command;
using dmarcq::test::TempDir;

namespace {

const std::string kRoot = DMARCQ_SOURCE_DIR;
const std::string kMailData = std::string(DMARCQ_TEST_DATA) + "/mail";

CommandResult run_dmarcq(const std::string& db, const std::string& arguments, const std::string& stdin_file = {}) {
  return run_command(quote(DMARCQ_BINARY) + " --db " + quote(db) + " " + arguments, stdin_file);
}

// Generates `count` report emails; returns the ground truth.
json generate(const std::string& out, const std::string& format, int count, int seed) {
  const CommandResult made = run_command("python3 " + quote(kRoot + "/tools/gen-reports") + " --out " + quote(out) +
                                         " --format " + format + " --count " + std::to_string(count) +
                                         " --records-per-report 5 --seed " + std::to_string(seed));
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  return json::parse(read_text_file(out + "/ground-truth.json"));
}

struct Totals {
  long long reports = 0, records = 0, messages = 0;
  std::map<std::string, long long> classes;
};

Totals stored_totals(const std::string& db) {
  const CommandResult exported = run_dmarcq(db, "export");
  REQUIRE(exported.exit_code == 0);
  Totals totals;
  std::istringstream lines(exported.out);
  std::string line;
  while (std::getline(lines, line)) {
    const json report = json::parse(line);
    ++totals.reports;
    for (const auto& record : report["records"]) {
      ++totals.records;
      totals.messages += record["count"].get<long long>();
      totals.classes[record["class"].get<std::string>()] += record["count"].get<long long>();
    }
  }
  return totals;
}

void check_ground_truth(const std::string& db, const json& truth) {
  Totals totals = stored_totals(db);
  CHECK(totals.reports == truth["reports"].get<long long>());
  CHECK(totals.records == truth["records"].get<long long>());
  CHECK(totals.messages == truth["count_sum"].get<long long>());
  for (const auto& [name, messages] : truth["classes"].items()) {
    INFO("class " << name);
    CHECK(totals.classes[name] == messages.get<long long>());
  }
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("a Maildir batch: every message stored, then marked Seen in cur/", "[integration][maildir]") {
  TempDir dir;
  const std::string maildir = dir.file("Maildir");
  const json truth = generate(maildir, "maildir", 60, 7);
  // A non-report mail and a broken report mail arrive too.
  fs::copy_file(kMailData + "/not_a_report.eml", maildir + "/new/1700000000.nonreport.host");
  fs::copy_file(kMailData + "/truncated.eml", maildir + "/new/1700000001.truncated.host");
  // A message someone already read (flags RF) but that was never ingested.
  const auto first_new = files_in(maildir + "/new").front();
  fs::rename(first_new, maildir + "/cur/" + first_new.filename().string() + ":2,RF");
  const std::string db = dir.file("d.db");
  const std::string failed = dir.file("Failed");

  const CommandResult run = run_dmarcq(db, "ingest --maildir " + quote(maildir) + " --failed-to " + quote(failed));
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);  // the rejected ones are kept, so nothing is lost
  CHECK(run.out == "62 inputs: 60 reports stored (300 records), 0 duplicates, 0 conflicts, 2 rejected\n");
  check_ground_truth(db, truth);

  CHECK(files_in(maildir + "/new").empty());
  const auto processed = files_in(maildir + "/cur");
  CHECK(processed.size() == 60);
  for (const auto& path : processed) {
    const std::string name = path.filename().string();
    INFO(name);
    const bool was_read = name.find(":2,FRS") != std::string::npos;
    CHECK((was_read || name.substr(name.size() - 4) == ":2,S"));
  }
  // Rejected messages are kept in the database and moved to --failed-to.
  const auto failed_messages = files_in(failed + "/cur");
  CHECK(failed_messages.size() == 2);
  const CommandResult rejected = run_dmarcq(db, "rejected");
  CHECK(rejected.out.find("#1 ") != std::string::npos);
  CHECK(rejected.out.find("#2 ") != std::string::npos);
  CHECK(rejected.out.find("#3 ") == std::string::npos);

  SECTION("a re-run finds nothing new to read") {
    const CommandResult again = run_dmarcq(db, "ingest --maildir " + quote(maildir));
    CHECK(again.out == "0 inputs: 0 reports stored (0 records), 0 duplicates, 0 conflicts, 0 rejected\n");
  }
  SECTION("--all re-reads Seen messages harmlessly") {
    const CommandResult all = run_dmarcq(db, "ingest --all --maildir " + quote(maildir));
    CHECK(all.out == "60 inputs: 0 reports stored (0 records), 60 duplicates, 0 conflicts, 0 rejected\n");
    check_ground_truth(db, truth);
    CHECK(files_in(maildir + "/cur").size() == 60);
  }
  SECTION("--move-to moves processed messages to another Maildir") {
    const std::string second = dir.file("Second");
    generate(second, "maildir", 5, 8);
    const std::string archive = dir.file("Archive");
    CHECK(run_dmarcq(db, "ingest --maildir " + quote(second) + " --move-to " + quote(archive)).exit_code == 0);
    CHECK(files_in(second + "/new").empty());
    CHECK(files_in(second + "/cur").empty());
    CHECK(files_in(archive + "/cur").size() == 5);
  }
}

TEST_CASE("Maildir++ sub-folders with --recursive", "[integration][maildir]") {
  TempDir dir;
  const std::string maildir = dir.file("Maildir");
  generate(maildir, "maildir", 3, 9);
  generate(maildir + "/.DMARC", "maildir", 4, 10);
  const std::string db = dir.file("d.db");
  CHECK(run_dmarcq(db, "ingest -q --maildir " + quote(maildir)).exit_code == 0);
  CHECK(stored_totals(db).reports == 3);
  CHECK(run_dmarcq(db, "ingest -q --recursive --maildir " + quote(maildir)).exit_code == 0);
  CHECK(stored_totals(db).reports == 7);
}

TEST_CASE("an mbox file is read message by message", "[integration][mbox]") {
  TempDir dir;
  const json truth = generate(dir.file("mbox"), "mbox", 25, 11);
  const std::string db = dir.file("d.db");
  const CommandResult run = run_dmarcq(db, "ingest " + quote(dir.file("mbox/reports.mbox")));
  INFO(run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out == "25 inputs: 25 reports stored (125 records), 0 duplicates, 0 conflicts, 0 rejected\n");
  check_ground_truth(db, truth);
}

TEST_CASE("MDA mode: exit codes for the MTA", "[integration][mda]") {
  TempDir dir;
  const std::string db = dir.file("d.db");
  const json truth = generate(dir.file("m"), "maildir", 3, 12);
  const auto messages = files_in(dir.file("m/new"));
  REQUIRE(messages.size() == 3);

  SECTION("stored, duplicate, no report: all 0; --strict makes a rejection 65") {
    CHECK(run_dmarcq(db, "ingest", messages[0]).exit_code == 0);
    CHECK(run_dmarcq(db, "ingest", messages[0]).exit_code == 0);
    const CommandResult none = run_dmarcq(db, "ingest", kMailData + "/not_a_report.eml");
    CHECK(none.exit_code == 0);
    CHECK(none.err.find("kept") != std::string::npos);
    CHECK(run_dmarcq(db, "ingest --strict", kMailData + "/not_a_report.eml").exit_code == 65);
    CHECK(stored_totals(db).reports == 1);
  }
  SECTION("usage errors are 64") {
    CHECK(run_dmarcq(db, "ingest --no-such-flag", messages[0]).exit_code == 64);
  }
  SECTION("75 when another process holds the write lock past the busy timeout") {
    REQUIRE(run_dmarcq(db, "ingest", messages[0]).exit_code == 0);
    // python3's sqlite3 holds an exclusive transaction until told to let go
    // (at most 60 s), so the test does not depend on how fast a loaded machine is.
    const std::string locker = "python3 -c " + quote(
        "import os,sqlite3,sys,time\n"
        "c=sqlite3.connect(sys.argv[1],isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE')\n"
        "open(sys.argv[2],'w').close()\n"
        "deadline=time.time()+60\n"
        "while not os.path.exists(sys.argv[3]) and time.time()<deadline: time.sleep(0.05)\n") +
        " " + quote(db) + " " + quote(dir.file("locked")) + " " + quote(dir.file("release"));
    const std::string script = "(" + locker + ") & while [ ! -e " + quote(dir.file("locked")) +
                               " ]; do sleep 0.05; done; " + quote(DMARCQ_BINARY) + " --db " + quote(db) +
                               " --busy-timeout 300 ingest < " + quote(messages[1].string()) +
                               "; echo \"exit=$?\"; touch " + quote(dir.file("release")) + "; wait";
    const CommandResult locked = run_command(script);
    INFO("script: " << script);
    INFO(locked.out << locked.err);
    CHECK(locked.out.find("exit=75") != std::string::npos);
    CHECK(locked.err.find("dmarcq: error: ") != std::string::npos);
    // Delivered again once the lock is gone: stored.
    CHECK(run_dmarcq(db, "ingest", messages[1]).exit_code == 0);
    CHECK(stored_totals(db).reports == 2);
  }
  SECTION("a read-only database directory is a temporary failure in MDA mode") {
    if (::geteuid() == 0) {
      WARN("SKIPPED: running as root, permissions do not apply");
      return;
    }
    const std::string ro = dir.file("ro");
    fs::create_directory(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    CHECK(run_dmarcq(ro + "/d.db", "ingest", messages[0]).exit_code == 75);
  }
}

// A program with its own SQLite reading the database while deliveries go on,
// through a -shm it does not write (as a group member reads a
// --group-readable database): such a reader may keep its own copy of the WAL
// index, and tells that the WAL changed by its header's salts. Deliveries
// empty the WAL at a checkpoint by rewriting its header (wal_reuse_vfs.cpp)
// instead of truncating it; the reader, reading each time the WAL was just
// emptied, must still see every delivery (with zeroed headers it did not).
TEST_CASE("a reader on a read-only -shm sees every delivery across the WAL's checkpoints", "[integration][mda]") {
  TempDir dir;
  const std::string db = dir.file("d.db");
  const std::string maildir = dir.file("mail");
  generate(maildir, "maildir", 60, 21);
  std::vector<fs::path> messages;
  for (const auto& entry : fs::directory_iterator(maildir + "/new")) messages.push_back(entry.path());
  std::sort(messages.begin(), messages.end());
  REQUIRE(messages.size() == 60);
  REQUIRE(run_dmarcq(db, "ingest", messages[0].string()).exit_code == 0);

  const auto reports_seen = [](sqlite3* connection) {
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(connection, "SELECT count(*) FROM reports", -1, &statement, nullptr) == SQLITE_OK);
    const int rc = sqlite3_step(statement);
    const long long count = rc == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : -1;
    INFO(sqlite3_errmsg(connection));
    sqlite3_finalize(statement);
    REQUIRE(rc == SQLITE_ROW);
    return count;
  };
  const std::string uri = "file:" + db + "?readonly_shm=1";
  sqlite3* reader = nullptr;
  REQUIRE(sqlite3_open_v2(uri.c_str(), &reader, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) == SQLITE_OK);
  int reads = 0;
  for (std::size_t i = 1; i < messages.size(); ++i) {
    REQUIRE(run_dmarcq(db, "ingest", messages[i].string()).exit_code == 0);
    if (!dmarcq::test::wal_holds_no_frame(db + "-wal")) continue;
    ++reads;
    CHECK(reports_seen(reader) == static_cast<long long>(i + 1));
  }
  sqlite3_close(reader);
  CHECK(reads >= 4);
  CHECK(run_dmarcq(db, "db check").exit_code == 0);
}

TEST_CASE("8 concurrent deliveries x 200 messages with duplicates lose and double nothing",
          "[integration][concurrency]") {
  TempDir dir;
  const json truth = generate(dir.file("m"), "maildir", 1000, 13);
  const auto messages = files_in(dir.file("m/new"));
  REQUIRE(messages.size() == 1000);
  const std::string db = dir.file("d.db");
  // Process p delivers its own 125 messages and 75 of its neighbour's.
  std::string script;
  for (int p = 0; p < 8; ++p) {
    std::string list = dir.file("list" + std::to_string(p));
    std::ofstream out(list);
    for (int i = 0; i < 125; ++i) out << messages[static_cast<std::size_t>(p * 125 + i)].string() << "\n";
    for (int i = 0; i < 75; ++i) out << messages[static_cast<std::size_t>(((p + 1) % 8) * 125 + i)].string() << "\n";
    out.close();
    script += "(while read -r f; do " + quote(DMARCQ_BINARY) + " --db " + quote(db) +
              " ingest < \"$f\" || echo \"failed $? $f\"; done < " + quote(list) + ") & ";
  }
  script += "wait";
  const CommandResult run = run_command(script);
  INFO(run.out << run.err);
  CHECK(run.out.empty());  // no delivery failed
  check_ground_truth(db, truth);
  CHECK(run_dmarcq(db, "rejected").out == "no rejected inputs\n");
}

TEST_CASE("corpus report emails give the same facts through stdin and --maildir as as files",
          "[integration][corpus]") {
  const char* env = std::getenv("DMARCQ_CORPUS");
  const std::string corpus = env && *env ? env : std::string(DMARCQ_SHARED_DIR) + "/corpus";
  if (!fs::exists(corpus + "/MANIFEST.tsv")) {
    WARN("SKIPPED: shared corpus not found at " << corpus);
    return;
  }
  std::ifstream manifest(corpus + "/MANIFEST.tsv");
  std::string line;
  int checked = 0;
  while (std::getline(manifest, line)) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    std::string field;
    while (std::getline(stream, field, '\t')) fields.push_back(field);
    if (fields.size() < 7 || fields[5] != "aggregate" || fields[6].rfind("eml>", 0) != 0) continue;
    if (!fs::exists(corpus + "/expected/" + fields[0] + ".json")) continue;
    const std::string file = corpus + "/" + fields[0];
    INFO("corpus email " << fields[0]);
    TempDir dir;
    CHECK(run_dmarcq(dir.file("file.db"), "ingest " + quote(file)).exit_code == 0);
    CHECK(run_dmarcq(dir.file("stdin.db"), "ingest --strict", file).exit_code == 0);
    fs::create_directories(dir.file("M/new"));
    fs::create_directories(dir.file("M/cur"));
    fs::copy_file(file, dir.file("M/new/1.corpus.host"));
    CHECK(run_dmarcq(dir.file("maildir.db"), "ingest --strict --maildir " + quote(dir.file("M"))).exit_code == 0);
    // Provenance differs (file name), the facts do not.
    auto facts = [&](const std::string& db) {
      json reports = json::parse(run_dmarcq(db, "export --format json").out);
      for (auto& report : reports) report.erase("source");
      return reports.dump();
    };
    CHECK(facts(dir.file("stdin.db")) == facts(dir.file("file.db")));
    CHECK(facts(dir.file("maildir.db")) == facts(dir.file("file.db")));
    ++checked;
  }
  CHECK(checked >= 10);
}

TEST_CASE("16 concurrent deliveries x 5,000 messages while queries run: nothing lost, nothing locked",
          "[integration][concurrency][load]") {
  TempDir dir;
  const json truth = generate(dir.file("m"), "maildir", 4000, 14);
  const auto messages = files_in(dir.file("m/new"));
  REQUIRE(messages.size() == 4000);
  const std::string db = dir.file("d.db");
  REQUIRE(run_dmarcq(db, "ingest", messages[0]).exit_code == 0);  // the schema exists before the storm
  // 5,000 deliveries: every message once, 1,000 of them twice, spread over 16 processes.
  std::vector<std::string> deliveries;
  for (const auto& message : messages) deliveries.push_back(message.string());
  for (std::size_t i = 0; i < 1000; ++i) deliveries.push_back(messages[(i * 7) % messages.size()].string());
  std::string script = "(while [ ! -e " + quote(dir.file("done")) + " ]; do " + quote(DMARCQ_BINARY) + " --db " +
                       quote(db) + " summary --format csv >/dev/null 2>>" + quote(dir.file("query-errors")) +
                       " || echo query-failed; done) & ";
  for (int p = 0; p < 16; ++p) {
    const std::string list = dir.file("list" + std::to_string(p));
    std::ofstream out(list);
    for (std::size_t i = static_cast<std::size_t>(p); i < deliveries.size(); i += 16) out << deliveries[i] << "\n";
    out.close();
    script += "(while read -r f; do " + quote(DMARCQ_BINARY) + " --db " + quote(db) +
              " ingest < \"$f\" || echo \"failed $? $f\"; done < " + quote(list) + ") & ";
  }
  // Wait for the 16 delivery loops (jobs 2..17), then stop the query loop.
  script += "for j in $(seq 2 17); do wait %$j; done; touch " + quote(dir.file("done")) + "; wait";
  const CommandResult run = run_command("bash -c " + quote(script));
  INFO(run.out << run.err << read_text_file(dir.file("query-errors")));
  CHECK(run.out.find("failed") == std::string::npos);        // no EX_TEMPFAIL, no error
  CHECK(run.out.find("query-failed") == std::string::npos);  // queries never locked out
  CHECK(read_text_file(dir.file("query-errors")).find("locked") == std::string::npos);
  check_ground_truth(db, truth);
}

TEST_CASE("a 20 MB message with a report and a big unrelated attachment", "[integration][mime]") {
  TempDir dir;
  const std::string message = dir.file("big.eml");
  // A real report (from tests/data/mail) plus 20 MB of base64 noise as a second part.
  const std::string make = "python3 -c " + quote(
      "import base64,random,sys\n"
      "report=open(sys.argv[1],'rb').read()\n"
      "head,sep,body=report.partition(b'\\n\\n')\n"
      "random.seed(7)\n"
      "noise=base64.encodebytes(random.randbytes(15*1024*1024))\n"
      "out=open(sys.argv[2],'wb')\n"
      "out.write(b'From: big@example.net\\nTo: dmarc@example.org\\nSubject: big\\nMIME-Version: 1.0\\n'\n"
      "          b'Content-Type: multipart/mixed; boundary=\"outer\"\\n\\n--outer\\nContent-Type: message/rfc822\\n\\n')\n"
      "out.write(report)\n"
      "out.write(b'\\n--outer\\nContent-Type: application/pdf; name=\"brochure.pdf\"\\nContent-Transfer-Encoding: base64\\n\\n')\n"
      "out.write(noise)\n"
      "out.write(b'--outer--\\n')\n") + " " + quote(kMailData + "/google_zip.eml") + " " + quote(message);
  REQUIRE(run_command(make).exit_code == 0);
  REQUIRE(fs::file_size(message) > 20'000'000);
  const std::string db = dir.file("d.db");
  const auto measured = dmarcq::test::run_measured(quote(DMARCQ_BINARY) + " --db " + quote(db) + " ingest " +
                                                   quote(message));
  INFO(measured.result.err << "peak RSS " << measured.peak_rss_kib << " KiB");
  CHECK(measured.result.exit_code == 0);
  CHECK(measured.result.out == "1 input: 1 report stored (1 records), 0 duplicates, 0 conflicts, 0 rejected\n");
  CHECK(measured.peak_rss_kib < 400 * 1024);
}
