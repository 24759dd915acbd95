// Charset conversion to UTF-8 through glibc's iconv, for header words and
// RFC 2231 parameters (filenames such as "b\xfccher.xml" in iso-8859-1).
#pragma once

#include <string>
#include <string_view>

namespace dmarcq::mime {

// Converts `bytes` from `charset` to UTF-8. UTF-8, US-ASCII and an empty
// charset pass through; an unknown charset keeps the bytes as they are;
// invalid sequences become U+FFFD. Never throws on bad input.
std::string to_utf8(std::string_view bytes, std::string_view charset);

}  // namespace dmarcq::mime
