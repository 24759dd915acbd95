#include <arpa/inet.h>

#include <catch2/catch.hpp>

#include "dmarcq/ip.hpp"

using dmarcq::parse_cidr;
using dmarcq::parse_ip;

namespace {
std::string canonical(const char* text) {
  auto ip = parse_ip(text);
  return ip ? ip->to_string() : "<invalid>";
}
}  // namespace

TEST_CASE("IPv4 addresses are kept as dotted quads", "[ip]") {
  CHECK(canonical("192.0.2.1") == "192.0.2.1");
  CHECK(canonical("  203.0.113.9 \n") == "203.0.113.9");
  CHECK(parse_ip("192.0.2.1")->is_v4());
}

TEST_CASE("IPv4 dotted quads match inet_ntop for every octet value", "[ip]") {
  // to_string formats IPv4 by hand; inet_ntop is the reference.
  for (unsigned octet = 0; octet < 256; ++octet) {
    const std::uint8_t quad[4] = {static_cast<std::uint8_t>(octet), static_cast<std::uint8_t>(255 - octet),
                                  static_cast<std::uint8_t>(octet / 3), 0};
    char expected[INET_ADDRSTRLEN] = {};
    REQUIRE(inet_ntop(AF_INET, quad, expected, sizeof expected));
    auto ip = parse_ip(expected);
    REQUIRE(ip);
    CHECK(ip->to_string() == expected);
  }
  CHECK(canonical("0.0.0.0") == "0.0.0.0");
  CHECK(canonical("255.255.255.255") == "255.255.255.255");
}

TEST_CASE("IPv6 addresses are printed in RFC 5952 form", "[ip]") {
  CHECK(canonical("2001:DB8:0:0:0:0:0:1") == "2001:db8::1");
  CHECK(canonical("2001:db8:0000:0000:1:0:0:1") == "2001:db8::1:0:0:1");  // first longest run
  CHECK(canonical("2001:db8:0:1:1:1:1:1") == "2001:db8:0:1:1:1:1:1");    // lone zero not compressed
  CHECK(canonical("0:0:0:0:0:0:0:0") == "::");
  CHECK(canonical("[2001:db8::2]") == "2001:db8::2");
}

TEST_CASE("IPv4-mapped IPv6 is shown as IPv4", "[ip]") {
  CHECK(canonical("::ffff:192.0.2.7") == "192.0.2.7");
  CHECK(canonical("::FFFF:c000:0207") == "192.0.2.7");
  CHECK(parse_ip("::ffff:192.0.2.7")->bytes == parse_ip("192.0.2.7")->bytes);
}

TEST_CASE("text that is not an IP is refused", "[ip]") {
  for (const char* junk : {"", "not-an-ip", "999.1.2.3", "1.2.3", "1.2.3.4.5", "2001:db8::1::2",
                           "fe80::1%eth0", "192.0.2.1/24"})
    CHECK_FALSE(parse_ip(junk));
}

TEST_CASE("CIDR ranges are contiguous in key order", "[ip]") {
  auto v4 = parse_cidr("192.0.2.0/24");
  REQUIRE(v4);
  CHECK(v4->first.to_string() == "192.0.2.0");
  CHECK(v4->last.to_string() == "192.0.2.255");
  CHECK(v4->contains(*parse_ip("192.0.2.77")));
  CHECK_FALSE(v4->contains(*parse_ip("192.0.3.1")));
  CHECK_FALSE(v4->contains(*parse_ip("2001:db8::1")));
  auto v6 = parse_cidr("2001:db8:1::/48");
  REQUIRE(v6);
  CHECK(v6->contains(*parse_ip("2001:db8:1:ffff::1")));
  CHECK_FALSE(v6->contains(*parse_ip("2001:db8:2::1")));
  auto single = parse_cidr("198.51.100.4");
  REQUIRE(single);
  CHECK(single->first == single->last);
  CHECK_FALSE(parse_cidr("192.0.2.0/33"));
  CHECK_FALSE(parse_cidr("192.0.2.0/-1"));
}

TEST_CASE("networks for grouping", "[ip]") {
  CHECK(dmarcq::network_of(*parse_ip("192.0.2.77"), 24, 48) == "192.0.2.0/24");
  CHECK(dmarcq::network_of(*parse_ip("2001:db8:1:2::5"), 24, 48) == "2001:db8:1::/48");
}
