// Robustness of the real binary: big hostile inputs with bounded memory,
// SIGKILL at random moments of a Maildir batch (nothing lost, nothing
// doubled, never marked Seen without its reports), a full disk and a
// read-only file system (EX_TEMPFAIL, database intact).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/process.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using dmarcq::test::CommandResult;
using dmarcq::test::quote;
using dmarcq::test::read_text_file;
using dmarcq::test::run_command;
using dmarcq::test::run_measured;
using dmarcq::test::TempDir;

namespace {

const std::string kRoot = DMARCQ_SOURCE_DIR;
const std::string kBinary = DMARCQ_BINARY;

std::string dmarcq_at(const std::string& db) { return quote(kBinary) + " --db " + quote(db); }

bool under_sanitizer() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#else
  return false;
#endif
}

json generate(const std::string& out, int count, int seed) {
  const CommandResult made = run_command("python3 " + quote(kRoot + "/tools/gen-reports") + " --out " + quote(out) +
                                         " --format maildir --count " + std::to_string(count) +
                                         " --records-per-report 5 --seed " + std::to_string(seed));
  REQUIRE(made.exit_code == 0);
  return json::parse(read_text_file(out + "/ground-truth.json"));
}

std::string sql(const std::string& db, const std::string& query) {
  const CommandResult result = run_command(dmarcq_at(db) + " sql --format tsv " + quote(query));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  // Header line, then the value.
  const auto newline = result.out.find('\n');
  std::string value = result.out.substr(newline + 1);
  while (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

// Message-IDs of the messages a Maildir import marked Seen.
std::set<std::string> seen_message_ids(const std::string& maildir) {
  std::set<std::string> ids;
  for (const auto& entry : fs::directory_iterator(maildir + "/cur")) {
    const std::string name = entry.path().filename().string();
    if (name.find(":2,") == std::string::npos || name.substr(name.find(":2,")).find('S') == std::string::npos)
      continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line) && line != "\r" && !line.empty()) {
      if (line.rfind("Message-ID:", 0) != 0 && line.rfind("Message-Id:", 0) != 0) continue;
      auto open = line.find('<'), close = line.find('>');
      ids.insert(line.substr(open + 1, close - open - 1));
    }
  }
  return ids;
}

std::set<std::string> stored_message_ids(const std::string& db) {
  std::set<std::string> ids;
  const CommandResult result = run_command(dmarcq_at(db) + " sql --format tsv " +
                                           quote("SELECT DISTINCT message_id FROM reports"));
  std::istringstream lines(result.out);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) ids.insert(line);
  return ids;
}

}  // namespace

TEST_CASE("big hostile inputs: clear errors, bounded memory", "[robustness][hostile]") {
  TempDir dir;
  const CommandResult made = run_command("python3 " + quote(kRoot + "/tests/data/hostile/make_big.py") + " " +
                                         quote(dir.file("big")));
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  // Peak RSS bounds (KiB). ASan adds shadow memory and quarantine.
  const long slack = under_sanitizer() ? 3 : 1;
  struct Case {
    const char* file;
    const char* reason;
    long max_rss_kib;
  };
  const Case cases[] = {
      {"gzip-bomb.xml.gz", "limit", 320 * 1024},  // stops at the 256 MiB decompression limit
      {"nested-gzip-bomb.xml.gz.gz", "limit", 320 * 1024},
      {"zip-100k-members.zip", "more than 1000 members", 100 * 1024},
      {"deep-nesting.xml", "nested deeper than 64 levels", 64 * 1024},
      {"huge-text-node.xml", "longer than the 1048576 byte limit", 700 * 1024},
  };
  for (const Case& c : cases) {
    INFO("hostile file " << c.file);
    const std::string db = dir.file(std::string(c.file) + ".db");
    const auto measured = run_measured(dmarcq_at(db) + " ingest " + quote(dir.file(std::string("big/") + c.file)));
    INFO(measured.result.err << "peak RSS " << measured.peak_rss_kib << " KiB");
    CHECK(measured.result.exit_code == 65);
    CHECK(measured.result.err.find(c.reason) != std::string::npos);
    CHECK(std::count(measured.result.err.begin(), measured.result.err.end(), '\n') == 1);
    CHECK(measured.peak_rss_kib < c.max_rss_kib * slack);
    CHECK(sql(db, "SELECT count(*) FROM reports") == "0");
  }
}

TEST_CASE("SIGKILL during a Maildir batch loses nothing, doubles nothing", "[robustness][kill]") {
  TempDir dir;
  const std::string maildir = dir.file("Maildir");
  const json truth = generate(maildir, 2000, 21);
  const std::string db = dir.file("d.db");
  std::mt19937 random(4242);
  // Kill at random moments. Small commits (50 messages) so that every run
  // gets some way before it is killed; short enough that 12 runs do not
  // finish the 2,000 messages (a run stores about 3,000 a second here).
  std::uniform_int_distribution<int> delay_ms(10, under_sanitizer() ? 400 : 60);
  int kills = 0;
  for (int round = 0; round < 12; ++round) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
      execl(kBinary.c_str(), "dmarcq", "--db", db.c_str(), "ingest", "--quiet", "--commit-every", "50",
            "--maildir", maildir.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) ++kills;
    // Never marked Seen without its reports stored.
    const auto seen = seen_message_ids(maildir);
    const auto stored = stored_message_ids(db);
    for (const auto& id : seen) {
      INFO("round " << round << ": message " << id << " is marked Seen");
      REQUIRE(stored.count(id) == 1);
    }
  }
  INFO("killed " << kills << " of 12 runs mid-way");
  CHECK(kills >= 6);
  // A last run finishes the job.
  const CommandResult last = run_command(dmarcq_at(db) + " ingest --quiet --maildir " + quote(maildir));
  CHECK(last.exit_code == 0);
  CHECK(run_command(dmarcq_at(db) + " db check").out == "ok\n");
  CHECK(sql(db, "SELECT count(*) FROM reports") == std::to_string(truth["reports"].get<long long>()));
  CHECK(sql(db, "SELECT count(*) FROM records") == std::to_string(truth["records"].get<long long>()));
  CHECK(sql(db, "SELECT sum(count) FROM records") == std::to_string(truth["count_sum"].get<long long>()));
  // Every report complete: as many records as it says.
  CHECK(sql(db, "SELECT count(*) FROM reports r WHERE record_count != "
                "(SELECT count(*) FROM records WHERE report = r.id)") == "0");
  CHECK(seen_message_ids(maildir).size() == 2000);
  CHECK(fs::is_empty(maildir + "/new"));
}

namespace {

// Runs `script` in a private mount namespace (the tmpfs it mounts vanishes
// with it). False when this machine cannot (not root, no unshare).
// Folds the WAL into the database file, so that copying the file copies everything.
bool checkpoint(const std::string& db) {
  return run_command("python3 -c " + quote("import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA wal_checkpoint(TRUNCATE)')") +
                     " " + quote(db)).exit_code == 0;
}

bool can_mount_tmpfs() {
  return run_command("unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs /mnt'").exit_code == 0;
}

}  // namespace

TEST_CASE("a full disk is a temporary failure and leaves the database intact", "[robustness][diskfull]") {
  if (!can_mount_tmpfs()) {
    if (std::getenv("CI")) FAIL("CI runs as root and must be able to mount a tmpfs");
    WARN("SKIPPED: cannot mount a tmpfs here (needs root)");
    return;
  }
  TempDir dir;
  const std::string seed_db = dir.file("seed.db");
  generate(dir.file("first"), 20, 31);
  generate(dir.file("more"), 400, 32);
  REQUIRE(run_command(dmarcq_at(seed_db) + " ingest --quiet --maildir " + quote(dir.file("first"))).exit_code == 0);
  REQUIRE(checkpoint(seed_db));
  const auto size_kib = static_cast<long>(fs::file_size(seed_db) / 1024);
  fs::create_directories(dir.file("full"));
  fs::create_directories(dir.file("after"));
  // The tmpfs leaves ~96 KiB free after the database: the first messages fit, then the disk is full.
  const std::string mount = dir.file("full");
  const std::string script =
      "mount -t tmpfs -o size=" + std::to_string(size_kib + 96) + "k tmpfs " + quote(mount) + " && cp " +
      quote(seed_db) + " " + quote(mount + "/d.db") + " && rc=0; for f in " + quote(dir.file("more/new")) +
      "/*; do " + dmarcq_at(mount + "/d.db") + " ingest < \"$f\" 2>>" + quote(dir.file("errors")) +
      "; rc=$?; [ $rc -ne 0 ] && break; done; echo \"exit=$rc\"; cp " + quote(mount) + "/d.db* " +
      quote(dir.file("after"));
  const CommandResult full = run_command("unshare -m sh -c " + quote(script));
  INFO(full.out << full.err << read_text_file(dir.file("errors")));
  CHECK(full.out.find("exit=75") != std::string::npos);
  CHECK(read_text_file(dir.file("errors")).find("dmarcq: error: ") != std::string::npos);
  const std::string after = dir.file("after/d.db");
  CHECK(run_command(dmarcq_at(after) + " db check").out == "ok\n");
  CHECK(sql(after, "SELECT count(*) FROM reports r WHERE record_count != "
                   "(SELECT count(*) FROM records WHERE report = r.id)") == "0");
  CHECK(std::stoll(sql(after, "SELECT count(*) FROM reports")) >= 20);
}

TEST_CASE("a read-only file system: 75 in MDA mode, a clear error in batch mode", "[robustness][readonly]") {
  if (!can_mount_tmpfs()) {
    if (std::getenv("CI")) FAIL("CI runs as root and must be able to mount a tmpfs");
    WARN("SKIPPED: cannot mount a tmpfs here (needs root)");
    return;
  }
  TempDir dir;
  generate(dir.file("m"), 3, 41);
  const std::string seed_db = dir.file("seed.db");
  REQUIRE(run_command(dmarcq_at(seed_db) + " ingest --quiet " + quote(kRoot + "/samples")).exit_code == 0);
  REQUIRE(checkpoint(seed_db));
  fs::create_directories(dir.file("ro"));
  const std::string mount = dir.file("ro");
  const std::string message = fs::directory_iterator(dir.file("m/new"))->path().string();
  const std::string script =
      "mount -t tmpfs tmpfs " + quote(mount) + " && cp " + quote(seed_db) + " " + quote(mount + "/d.db") +
      " && mount -o remount,ro " + quote(mount) + " && " + dmarcq_at(mount + "/d.db") + " ingest < " + quote(message) +
      "; echo \"mda=$?\"; " + dmarcq_at(mount + "/d.db") + " ingest " + quote(message) + "; echo \"batch=$?\"";
  const CommandResult result = run_command("unshare -m sh -c " + quote(script));
  INFO(result.out << result.err);
  CHECK(result.out.find("mda=75") != std::string::npos);
  CHECK(result.out.find("batch=75") != std::string::npos);
  CHECK(result.err.find("dmarcq: error: ") != std::string::npos);
}
