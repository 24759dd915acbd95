#include "encoding.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

#include "dmarcq/text.hpp"

namespace dmarcq::xml_detail {

namespace {

// windows-1252 0x80..0x9F. The five holes (0x81, 0x8D, 0x8F, 0x90, 0x9D) map
// to the C1 control of the same value, as browsers (WHATWG) do.
constexpr std::array<char16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

std::string byte_where(std::size_t offset) { return "byte " + std::to_string(offset); }

bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::size_t utf8_length(char32_t cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

struct CodePoint {
  char32_t value = 0;
  std::size_t bytes = 1;  // input bytes consumed
  bool valid = true;
};

// One code point of a non-UTF-8 source encoding starting at `pos`.
CodePoint next_code_point(std::string_view in, std::size_t pos, SourceEncoding encoding) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(in[i]); };
  switch (encoding) {
    case SourceEncoding::latin1:
      return {byte(pos), 1, true};
    case SourceEncoding::cp1252: {
      unsigned char b = byte(pos);
      return {b >= 0x80 && b <= 0x9F ? kCp1252High[b - 0x80] : char32_t{b}, 1, true};
    }
    case SourceEncoding::utf16le:
    case SourceEncoding::utf16be: {
      const bool le = encoding == SourceEncoding::utf16le;
      auto unit = [&](std::size_t i) -> char32_t {
        return le ? char32_t(byte(i) | (byte(i + 1) << 8)) : char32_t((byte(i) << 8) | byte(i + 1));
      };
      if (pos + 2 > in.size()) return {0, in.size() - pos, false};  // odd trailing byte
      char32_t first = unit(pos);
      if (first >= 0xDC00 && first <= 0xDFFF) return {first, 2, false};  // lone low surrogate
      if (first < 0xD800 || first > 0xDBFF) return {first, 2, true};
      if (pos + 4 > in.size()) return {first, in.size() - pos, false};
      char32_t second = unit(pos + 2);
      if (second < 0xDC00 || second > 0xDFFF) return {first, 2, false};
      return {0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00), 4, true};
    }
    case SourceEncoding::utf8:
      break;
  }
  return {byte(pos), 1, true};  // not used for UTF-8
}

Expected<std::string> transcode(std::string_view in, std::size_t start, SourceEncoding encoding) {
  std::string out;
  out.reserve(in.size() - start + (in.size() - start) / 8);
  for (std::size_t pos = start; pos < in.size();) {
    CodePoint cp = next_code_point(in, pos, encoding);
    if (!cp.valid)
      return make_error(ErrorKind::malformed, "invalid UTF-16 sequence", byte_where(pos));
    if (cp.value == 0)
      return make_error(ErrorKind::malformed, "NUL character in XML", byte_where(pos));
    append_utf8(out, cp.value);
    pos += cp.bytes;
  }
  return out;
}

struct Utf8Problem {
  std::size_t offset = 0;
  bool nul = false;
};

// First invalid UTF-8 sequence or NUL byte, if any. ASCII runs are skipped
// eight bytes at a time: reports are almost entirely ASCII.
std::optional<Utf8Problem> find_utf8_problem(std::string_view text) {
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ull;
  std::size_t i = 0;
  while (i < size) {
    if (i + 8 <= size) {
      std::uint64_t word = 0;
      std::memcpy(&word, data + i, 8);
      const bool has_zero_byte = ((word - kOnes) & ~word & kHighBits) != 0;
      if ((word & kHighBits) == 0 && !has_zero_byte) {
        i += 8;
        continue;
      }
    }
    const unsigned char lead = data[i];
    if (lead == 0) return Utf8Problem{i, true};
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;   // overlong
      if (lead == 0xED) high = 0x9F;  // UTF-16 surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;   // overlong
      if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return Utf8Problem{i, false};
    }
    if (i + length > size) return Utf8Problem{i, false};
    if (data[i + 1] < low || data[i + 1] > high) return Utf8Problem{i, false};
    for (std::size_t k = 2; k < length; ++k)
      if ((data[i + k] & 0xC0) != 0x80) return Utf8Problem{i, false};
    i += length;
  }
  return std::nullopt;
}

// The value of encoding="..." in a leading XML declaration, or "".
std::string_view declared_encoding(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && is_xml_space(text[i])) ++i;
  text.remove_prefix(i);
  if (!text.starts_with("<?xml") || text.size() < 6 || !is_xml_space(text[5])) return {};
  const std::size_t end = text.find("?>");
  if (end == std::string_view::npos || end > 1024) return {};
  std::string_view declaration = text.substr(5, end - 5);
  std::size_t at = declaration.find("encoding");
  if (at == std::string_view::npos) return {};
  at += 8;
  while (at < declaration.size() && is_xml_space(declaration[at])) ++at;
  if (at >= declaration.size() || declaration[at] != '=') return {};
  ++at;
  while (at < declaration.size() && is_xml_space(declaration[at])) ++at;
  if (at >= declaration.size() || (declaration[at] != '"' && declaration[at] != '\'')) return {};
  const std::size_t close = declaration.find(declaration[at], at + 1);
  if (close == std::string_view::npos) return {};
  return declaration.substr(at + 1, close - at - 1);
}

bool is_one_of(std::string_view name, std::initializer_list<std::string_view> spellings) {
  for (std::string_view spelling : spellings)
    if (iequals(name, spelling)) return true;
  return false;
}

// The 8-bit encoding to read a document without UTF-16 byte order mark as.
SourceEncoding eight_bit_encoding(std::string_view declared, std::vector<std::string>& diagnostics) {
  if (declared.empty() || is_one_of(declared, {"utf-8", "utf8", "us-ascii", "ascii"}))
    return SourceEncoding::utf8;
  if (is_one_of(declared, {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1"}))
    return SourceEncoding::latin1;
  if (is_one_of(declared, {"windows-1252", "cp1252", "x-cp1252", "win-1252"}))
    return SourceEncoding::cp1252;
  diagnostics.push_back("XML declaration names encoding \"" + printable(declared) +
                        "\", which the bytes do not match or dmarcq does not support; read as UTF-8");
  return SourceEncoding::utf8;
}

}  // namespace

Expected<DecodedXml> decode_to_utf8(std::string_view input, std::vector<std::string>& diagnostics,
                                    bool copy_utf8) {
  DecodedXml decoded;
  auto starts_with_bytes = [&](std::initializer_list<unsigned char> bytes) {
    if (input.size() < bytes.size()) return false;
    std::size_t i = 0;
    for (unsigned char b : bytes)
      if (static_cast<unsigned char>(input[i++]) != b) return false;
    return true;
  };

  if (starts_with_bytes({0xFF, 0xFE, 0x00, 0x00}) || starts_with_bytes({0x00, 0x00, 0xFE, 0xFF}))
    return make_error(ErrorKind::unsupported, "UTF-32 encoded XML is not supported", "byte 0");
  if (starts_with_bytes({0xEF, 0xBB, 0xBF})) {
    decoded.bom_bytes = 3;
  } else if (starts_with_bytes({0xFF, 0xFE})) {
    decoded.encoding = SourceEncoding::utf16le;
    decoded.bom_bytes = 2;
  } else if (starts_with_bytes({0xFE, 0xFF})) {
    decoded.encoding = SourceEncoding::utf16be;
    decoded.bom_bytes = 2;
  } else if (input.size() >= 2 && input[0] != 0 && input[1] == 0) {
    decoded.encoding = SourceEncoding::utf16le;  // UTF-16 without BOM: "<\0?\0"
  } else if (input.size() >= 2 && input[0] == 0 && input[1] != 0) {
    decoded.encoding = SourceEncoding::utf16be;
  } else {
    decoded.encoding = eight_bit_encoding(declared_encoding(input), diagnostics);
  }

  if (decoded.encoding == SourceEncoding::utf8) {
    std::string_view body = input.substr(decoded.bom_bytes);
    if (auto problem = find_utf8_problem(body)) {
      return make_error(ErrorKind::malformed,
                        problem->nul ? "NUL byte in XML" : "invalid UTF-8 byte sequence",
                        byte_where(decoded.bom_bytes + problem->offset));
    }
    if (copy_utf8) decoded.utf8.assign(body);
    else decoded.in_input = true;
    return decoded;
  }
  auto converted = transcode(input, decoded.bom_bytes, decoded.encoding);
  if (!converted) return converted.error();
  decoded.utf8 = std::move(*converted);
  return decoded;
}

std::size_t source_offset(std::string_view input, const DecodedXml& decoded,
                          std::size_t utf8_offset) {
  if (decoded.encoding == SourceEncoding::utf8) return decoded.bom_bytes + utf8_offset;
  std::size_t pos = decoded.bom_bytes;
  std::size_t produced = 0;
  while (pos < input.size() && produced < utf8_offset) {
    CodePoint cp = next_code_point(input, pos, decoded.encoding);
    produced += utf8_length(cp.value);
    pos += cp.bytes;
  }
  return pos;
}

}  // namespace dmarcq::xml_detail
