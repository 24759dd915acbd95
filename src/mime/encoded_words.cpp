// RFC 2047 encoded-words ("=?charset?B|Q?text?=") in unstructured header text
// and (leniently) inside quoted parameter values, as Outlook writes them.
#include <optional>

#include "charset.hpp"
#include "dmarcq/mime.hpp"
#include "dmarcq/text.hpp"
#include "transfer_decoding.hpp"

namespace dmarcq {

namespace {

struct EncodedWord {
  std::string charset;  // without an RFC 2231 "*language" suffix
  std::string bytes;    // decoded, still in `charset`
  std::size_t length;   // bytes of input consumed
};

// Parses an encoded word starting at text[0] == '='. nullopt if it is not one.
std::optional<EncodedWord> parse_encoded_word(std::string_view text) {
  if (text.size() < 8 || text[0] != '=' || text[1] != '?') return std::nullopt;
  const std::size_t charset_end = text.find('?', 2);
  if (charset_end == std::string_view::npos || charset_end + 2 >= text.size()) return std::nullopt;
  if (text[charset_end + 2] != '?') return std::nullopt;
  const char encoding = text[charset_end + 1];
  const std::size_t payload_start = charset_end + 3;
  const std::size_t payload_end = text.find("?=", payload_start);
  if (payload_end == std::string_view::npos) return std::nullopt;
  const std::string_view payload = text.substr(payload_start, payload_end - payload_start);
  // Encoded words never contain blanks; a blank means we matched too far.
  if (payload.find_first_of(" \t\r\n") != std::string_view::npos) return std::nullopt;

  std::string_view charset = text.substr(2, charset_end - 2);
  if (const auto star = charset.find('*'); star != std::string_view::npos)
    charset = charset.substr(0, star);
  if (charset.empty()) return std::nullopt;

  EncodedWord word{std::string(charset), {}, payload_end + 2};
  if (encoding == 'B' || encoding == 'b') {
    word.bytes = mime::decode_base64(payload);
  } else if (encoding == 'Q' || encoding == 'q') {
    word.bytes = mime::decode_quoted_printable(payload, /*underscore_is_space=*/true);
  } else {
    return std::nullopt;
  }
  return word;
}

bool is_linear_whitespace(std::string_view text) {
  for (char c : text)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

}  // namespace

std::string decode_rfc2047(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  // Adjacent words of one charset are converted together: a multi-byte
  // character may be split across two words.
  std::string pending_bytes;
  std::string pending_charset;
  auto flush_pending = [&] {
    if (pending_bytes.empty()) return;
    out += mime::to_utf8(pending_bytes, pending_charset);
    pending_bytes.clear();
  };

  std::size_t position = 0;
  std::size_t plain_start = 0;
  bool previous_was_word = false;
  while (position < text.size()) {
    const std::size_t candidate = text.find("=?", position);
    if (candidate == std::string_view::npos) break;
    auto word = parse_encoded_word(text.substr(candidate));
    if (!word) {
      position = candidate + 2;
      continue;
    }
    const std::string_view between = text.substr(plain_start, candidate - plain_start);
    // Whitespace between two encoded words is not part of the text (RFC 2047 6.2).
    if (!(previous_was_word && is_linear_whitespace(between))) {
      flush_pending();
      out += between;
    }
    if (!pending_bytes.empty() && !iequals(pending_charset, word->charset)) flush_pending();
    pending_charset = word->charset;
    pending_bytes += word->bytes;
    position = candidate + word->length;
    plain_start = position;
    previous_was_word = true;
  }
  flush_pending();
  out += text.substr(plain_start);
  return out;
}

}  // namespace dmarcq
