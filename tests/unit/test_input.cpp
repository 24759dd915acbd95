// Where messages come from: the Maildir listing.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../support/process.hpp"
#include "dmarcq/input.hpp"

using namespace dmarcq;
namespace fs = std::filesystem;

namespace {

void make_maildir(const fs::path& dir, const std::vector<std::string>& messages) {
  for (const char* sub : {"new", "cur", "tmp"}) fs::create_directories(dir / sub);
  for (const std::string& message : messages) std::ofstream(dir / message) << "Subject: " << message << "\n\n";
}

// "sub/name new|cur seen|-" per message, paths relative to `root`.
std::vector<std::string> describe(const MaildirListing& listing, const fs::path& root) {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < listing.size(); ++i) {
    const MaildirMessage message = listing[i];
    CHECK(fs::exists(message.path));
    lines.push_back(fs::relative(message.path, root).string() + (message.in_new ? " new" : " cur") +
                    (message.seen ? " seen" : " -") + " in " + fs::relative(message.folder, root).string());
  }
  return lines;
}

}  // namespace

TEST_CASE("a Maildir listing: new/ then cur/, each in name order, Seen ones on request", "[input][maildir]") {
  test::TempDir dir;
  const fs::path root = dir.path();
  make_maildir(root / "box", {"new/200.b", "new/100.a", "new/.hidden", "cur/300.c:2,S", "cur/050.d:2,", "tmp/400.e"});
  make_maildir(root / "box/.Sub", {"new/500.x"});
  make_maildir(root / "box/.Another", {"cur/600.y:2,RS"});

  SECTION("unseen messages of the folder itself") {
    MaildirListing listing;
    listing.add(root / "box", false, false);
    CHECK(describe(listing, root) == std::vector<std::string>{"box/new/100.a new - in box", "box/new/200.b new - in box",
                                                              "box/cur/050.d:2, cur - in box"});
  }
  SECTION("with Seen ones, and sub-folders in name order") {
    MaildirListing listing;
    listing.add(root / "box", true, true);
    CHECK(describe(listing, root) ==
          std::vector<std::string>{"box/new/100.a new - in box", "box/new/200.b new - in box",
                                   "box/cur/050.d:2, cur - in box", "box/cur/300.c:2,S cur seen in box",
                                   "box/.Another/cur/600.y:2,RS cur seen in box/.Another",
                                   "box/.Sub/new/500.x new - in box/.Sub"});
  }
  SECTION("two Maildirs add up in the order they were added") {
    MaildirListing listing;
    listing.add(root / "box/.Sub", false, false);
    listing.add(root / "box", false, false);
    REQUIRE(listing.size() == 4);
    CHECK(fs::path(listing[0].path).filename() == "500.x");
    CHECK(fs::path(listing[3].path).filename() == "050.d:2,");
  }
}
