// IP address canonicalisation (RFC 5952) and a sortable 16-byte key.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dmarcq {

struct IpAddress {
  // Network order; IPv4 is stored as the IPv4-mapped IPv6 ::ffff:a.b.c.d so
  // that all addresses share one ordering and a CIDR is one contiguous range.
  std::array<std::uint8_t, 16> bytes{};

  [[nodiscard]] bool is_v4() const;
  // "192.0.2.1" or RFC 5952 "2001:db8::1". IPv4-mapped IPv6 prints as IPv4.
  [[nodiscard]] std::string to_string() const;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

// Accepts dotted IPv4 and any RFC 4291 IPv6 text (incl. embedded IPv4, zone
// ids are rejected). Surrounding whitespace is ignored.
std::optional<IpAddress> parse_ip(std::string_view text);

// A network: first and last address (inclusive) of "ADDR/PREFIX" or a single
// address. Prefix for IPv4 text counts IPv4 bits (0..32).
struct IpRange {
  IpAddress first;
  IpAddress last;
  [[nodiscard]] bool contains(const IpAddress& ip) const { return first <= ip && ip <= last; }
};
std::optional<IpRange> parse_cidr(std::string_view text);

// The network of `ip` with `v4_prefix` bits for IPv4 or `v6_prefix` for IPv6,
// printed as "a.b.c.0/24" / "2001:db8::/48".
std::string network_of(const IpAddress& ip, int v4_prefix, int v6_prefix);

}  // namespace dmarcq
