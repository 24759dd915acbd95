// Content-Transfer-Encoding decoders, written for hostile input.
//
// mimetic's own codecs are never used on untrusted bytes: its base64 table is
// one entry short ('|' reads past the end), see ../shared/mimetic/README.md.
// Both decoders here are lenient and linear: they never fail, they skip or
// keep what they do not understand.
#pragma once

#include <string>
#include <string_view>

namespace dmarcq::mime {

// Base64: bytes outside the alphabet (line breaks, '|', junk) are skipped;
// decoding stops at the first '='. A dangling single sextet is dropped.
std::string decode_base64(std::string_view encoded);

// Quoted-printable: "=XX" (either hex case) becomes a byte, '=' at the end of a
// line (trailing blanks allowed) is a soft break, any other '=' is kept.
// Handles CRLF and bare LF line ends. `underscore_is_space` is the RFC 2047
// "Q" variant.
std::string decode_quoted_printable(std::string_view encoded, bool underscore_is_space = false);

// Decodes a body by its Content-Transfer-Encoding value (case-insensitive,
// surrounding blanks ignored). 7bit, 8bit, binary and unknown values pass
// the bytes through unchanged.
std::string decode_transfer_encoding(std::string_view body, std::string_view encoding);

}  // namespace dmarcq::mime
