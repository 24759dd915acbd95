// Small string helpers shared by every stage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dmarcq {

// Trims ASCII whitespace (space, tab, CR, LF, FF, VT) at both ends.
std::string_view trim(std::string_view text);
std::string to_lower_ascii(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view text, std::string_view prefix);

// Strict decimal integer (optional sign, surrounding whitespace allowed).
// nullopt on junk or overflow.
std::optional<std::int64_t> parse_int64(std::string_view text);

// Makes text safe to print on a terminal: control characters (C0, DEL, C1 in
// UTF-8) become \xNN, so report content can never send escape sequences.
std::string printable(std::string_view text);
// The same, but line breaks and tabs are kept (for multi-line text such as headers).
std::string printable_multiline(std::string_view text);

// Lowercase hex of bytes.
std::string to_hex(std::string_view bytes);

}  // namespace dmarcq
