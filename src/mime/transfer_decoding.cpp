#include "transfer_decoding.hpp"

#include <array>
#include <cstdint>

#include "dmarcq/text.hpp"

namespace dmarcq::mime {

namespace {

constexpr std::int8_t kNotBase64 = -1;

constexpr std::array<std::int8_t, 256> make_base64_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& entry : table) entry = kNotBase64;
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i)
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}

// A full 256-entry table: every byte value has an entry, so no input can read
// outside it (the mimetic bug this module exists to avoid).
constexpr auto kBase64Table = make_base64_table();

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::string decode_base64(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size() / 4 * 3 + 3);
  std::uint32_t accumulator = 0;
  int sextets = 0;
  for (char c : encoded) {
    if (c == '=') break;
    const std::int8_t value = kBase64Table[static_cast<unsigned char>(c)];
    if (value == kNotBase64) continue;
    accumulator = (accumulator << 6) | static_cast<std::uint32_t>(value);
    if (++sextets == 4) {
      out += static_cast<char>((accumulator >> 16) & 0xFF);
      out += static_cast<char>((accumulator >> 8) & 0xFF);
      out += static_cast<char>(accumulator & 0xFF);
      accumulator = 0;
      sextets = 0;
    }
  }
  // Unpadded or '='-terminated tail: 2 sextets carry one byte, 3 carry two.
  if (sextets == 2) {
    out += static_cast<char>((accumulator >> 4) & 0xFF);
  } else if (sextets == 3) {
    out += static_cast<char>((accumulator >> 10) & 0xFF);
    out += static_cast<char>((accumulator >> 2) & 0xFF);
  }
  return out;
}

std::string decode_quoted_printable(std::string_view encoded, bool underscore_is_space) {
  std::string out;
  out.reserve(encoded.size());
  const std::size_t size = encoded.size();
  for (std::size_t i = 0; i < size; ++i) {
    const char c = encoded[i];
    if (c == '_' && underscore_is_space) {
      out += ' ';
      continue;
    }
    if (c != '=') {
      out += c;
      continue;
    }
    if (i + 2 < size && hex_value(encoded[i + 1]) >= 0 && hex_value(encoded[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(encoded[i + 1]) * 16 + hex_value(encoded[i + 2]));
      i += 2;
      continue;
    }
    // Soft line break: '=' then optional blanks then CRLF / LF / CR / end.
    std::size_t after = i + 1;
    while (after < size && is_blank(encoded[after])) ++after;
    if (after == size) break;
    if (encoded[after] == '\r' || encoded[after] == '\n') {
      if (encoded[after] == '\r' && after + 1 < size && encoded[after + 1] == '\n') ++after;
      i = after;
      continue;
    }
    out += '=';  // a bad escape is kept literally
  }
  return out;
}

std::string decode_transfer_encoding(std::string_view body, std::string_view encoding) {
  const std::string_view mechanism = trim(encoding);
  if (iequals(mechanism, "base64")) return decode_base64(body);
  if (iequals(mechanism, "quoted-printable")) return decode_quoted_printable(body);
  return std::string(body);
}

}  // namespace dmarcq::mime
