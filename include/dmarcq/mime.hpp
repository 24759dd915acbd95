// RFC 5322 / MIME messages -> decoded parts. The only module that touches
// mimetic; hostile-input guards run before mimetic sees a byte (see
// src/mime/README or ../shared/mimetic/README.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/error.hpp"
#include "dmarcq/limits.hpp"

namespace dmarcq {

struct MailPart {
  std::string content_type;  // lowercased "type/subtype"; "" when the part had none
  std::string filename;      // from Content-Disposition filename / Content-Type name,
                             // RFC 2047 / RFC 2231 decoded; "" when none
  std::string path;          // position in the MIME tree, e.g. "1", "2.1" (for messages)
  std::string body;          // transfer-decoded bytes (base64 / quoted-printable / 7bit / 8bit)
};

struct MailMessage {
  std::optional<std::string> message_id;  // without surrounding <>
  std::optional<std::string> from;        // RFC 2047 decoded
  std::optional<std::string> date;        // as written
  std::optional<std::string> subject;     // RFC 2047 decoded
  std::string content_type;               // top-level, lowercased type/subtype
  // Every leaf part in tree order, decoded. message/rfc822 parts are walked
  // into (their leaves appear here, with paths below the rfc822 part); a
  // single-part message yields its body as one part.
  std::vector<MailPart> parts;
};

// Parses one message. Errors: limit_exceeded (size, header line, depth, part
// count), malformed (no header at all, mimetic failure).
Expected<MailMessage> parse_mail(std::string_view raw, const Limits& limits);

// RFC 2047 encoded-words -> UTF-8 (unknown charsets left as is).
std::string decode_rfc2047(std::string_view text);

}  // namespace dmarcq
