#include <catch2/catch.hpp>

#include "dmarcq/model.hpp"
#include "dmarcq/text.hpp"
#include "dmarcq/timespec.hpp"

using namespace dmarcq;

TEST_CASE("enum values parse in any case, unknown ones are kept verbatim", "[model]") {
  CHECK(parse_dkim_result(" Pass ").value == DkimResult::pass);
  CHECK(parse_disposition("NONE").value == Disposition::none);
  CHECK(parse_disposition("pass").value == Disposition::pass);  // DMARCbis
  CHECK(parse_spf_result("hardfail").value == SpfResult::fail);
  CHECK(parse_reason_type("policy_test_mode").value == ReasonType::policy_test_mode);
  CHECK(parse_alignment_mode("s").value == AlignmentMode::strict);
  CHECK(parse_testing("Y").value == Testing::yes);
  CHECK(parse_discovery_method("treewalk").value == DiscoveryMethod::treewalk);
  const auto odd = parse_spf_result(" Weird ");
  CHECK(odd.value == SpfResult::unknown);
  CHECK(odd.raw == "Weird");
  CHECK(odd.text() == "Weird");
  CHECK(parse_policy("").value == Policy::absent);
  CHECK(to_string(AlignmentMode::relaxed) == "r");
  CHECK(to_string(TrafficClass::dkim_only) == "dkim-only");
}

TEST_CASE("integers are strict", "[text]") {
  CHECK(parse_int64(" 42 ") == 42);
  CHECK(parse_int64("-5") == -5);
  CHECK_FALSE(parse_int64("9223372036854775808"));
  CHECK_FALSE(parse_int64("12abc"));
  CHECK_FALSE(parse_int64(""));
}

TEST_CASE("terminal control characters never reach the screen raw", "[text]") {
  CHECK(printable("a\x1b[31mb") == "a\\x1b[31mb");
  CHECK(printable("bell\x07") == "bell\\x07");
  CHECK(printable("\xc2\x9b" "2J") == "\\xc2\\x9b2J");  // C1 CSI in UTF-8
  CHECK(printable("caf\xc3\xa9") == "caf\xc3\xa9");     // ordinary UTF-8 stays
}

TEST_CASE("time arguments", "[timespec]") {
  const std::int64_t now = 1'800'000'000;
  CHECK(parse_time_spec("7d", now) == now - 7 * 86400);
  CHECK(parse_time_spec("24h", now) == now - 86400);
  CHECK(parse_time_spec("2026-11-01", now) == 1793491200);
  CHECK(parse_time_spec("2026-11-01T12:00:00Z", now) == 1793491200 + 43200);
  CHECK(parse_time_spec("2026-11-01T12:00:00+02:00", now) == 1793491200 + 36000);
  CHECK(parse_time_spec("@1700000000", now) == 1700000000);
  CHECK_FALSE(parse_time_spec("yesterday", now));
  CHECK_FALSE(parse_time_spec("2026-13-01", now));
  CHECK(format_utc(1793491200) == "2026-11-01T00:00:00Z");
}
