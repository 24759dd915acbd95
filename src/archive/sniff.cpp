// Content sniffing: what a byte string is, from its first bytes only.
//
// File names and MIME types lie (reports arrive as application/octet-stream,
// "report.xml" that is a zip, ...), so the content decides.
#include <cstddef>
#include <string_view>

#include "dmarcq/archive.hpp"

namespace dmarcq {

namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string_view skip_bom_and_space(std::string_view bytes) {
  if (bytes.starts_with(kUtf8Bom)) bytes.remove_prefix(kUtf8Bom.size());
  std::size_t i = 0;
  while (i < bytes.size() && is_space(static_cast<unsigned char>(bytes[i]))) ++i;
  return bytes.substr(i);
}

unsigned char byte_at(std::string_view bytes, std::size_t i) {
  return static_cast<unsigned char>(bytes[i]);
}

bool has_magic(std::string_view bytes) {
  if (bytes.size() >= 2 && byte_at(bytes, 0) == 0x1f && byte_at(bytes, 1) == 0x8b) return true;
  return bytes.starts_with("PK\x03\x04") || bytes.starts_with("PK\x05\x06");
}

// RFC 1950: CMF 0x78 is deflate with a 32 KiB window; FCHECK makes the first
// two bytes, read as a big-endian number, a multiple of 31.
bool is_zlib(std::string_view bytes) {
  if (bytes.size() < 2 || byte_at(bytes, 0) != 0x78) return false;
  return (byte_at(bytes, 0) * 256u + byte_at(bytes, 1)) % 31u == 0;
}

// UTF-16 XML, with or without a byte order mark: whitespace units, then '<',
// then another ASCII unit (so "<\0" alone or random bytes do not match).
bool is_utf16_xml(std::string_view bytes) {
  const auto unit = [&](std::size_t index, bool big_endian) -> unsigned {
    const unsigned char hi = byte_at(bytes, index + (big_endian ? 0 : 1));
    const unsigned char lo = byte_at(bytes, index + (big_endian ? 1 : 0));
    return hi * 256u + lo;
  };
  for (bool big_endian : {false, true}) {
    std::size_t i = 0;
    if (bytes.size() >= 2 && unit(0, big_endian) == 0xFEFF) i = 2;
    while (i + 1 < bytes.size() && unit(i, big_endian) < 0x80 &&
           is_space(static_cast<unsigned char>(unit(i, big_endian)))) {
      i += 2;
    }
    if (i + 3 < bytes.size() && unit(i, big_endian) == '<') {
      const unsigned next = unit(i + 2, big_endian);
      if (next > 0x20 && next < 0x80) return true;
    }
  }
  return false;
}

// RFC 5322 field-name: printable US-ASCII except ':', then ':' on line one.
bool starts_with_header_field(std::string_view bytes) {
  constexpr std::size_t kLongestFieldName = 76;
  std::size_t i = 0;
  while (i < bytes.size() && i <= kLongestFieldName) {
    const unsigned char c = byte_at(bytes, i);
    if (c == ':') return i > 0;
    if (c < 33 || c > 126) return false;
    ++i;
  }
  return false;
}

}  // namespace

const char* to_string(ContentFormat format) {
  switch (format) {
    case ContentFormat::empty: return "empty";
    case ContentFormat::xml: return "xml";
    case ContentFormat::gzip: return "gz";
    case ContentFormat::zip: return "zip";
    case ContentFormat::zlib: return "zlib";
    case ContentFormat::mail: return "mail";
    case ContentFormat::mbox: return "mbox";
    case ContentFormat::json: return "json";
    case ContentFormat::unknown: return "unknown";
  }
  return "unknown";
}

ContentFormat sniff_format(std::string_view bytes) {
  const std::string_view text = skip_bom_and_space(bytes);
  if (text.empty()) return ContentFormat::empty;
  if (has_magic(bytes)) {
    return byte_at(bytes, 0) == 0x1f ? ContentFormat::gzip : ContentFormat::zip;
  }
  if (is_zlib(bytes)) return ContentFormat::zlib;
  if (text.front() == '<') return ContentFormat::xml;
  if (text.front() == '{' || text.front() == '[') return ContentFormat::json;
  if (is_utf16_xml(bytes)) return ContentFormat::xml;
  if (bytes.starts_with("From ")) return ContentFormat::mbox;
  if (starts_with_header_field(bytes)) return ContentFormat::mail;
  return ContentFormat::unknown;
}

}  // namespace dmarcq
