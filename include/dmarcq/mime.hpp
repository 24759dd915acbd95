// RFC 5322 / MIME messages -> decoded parts. The only module that touches
// mimetic; hostile-input guards run before mimetic sees a byte (see
// src/mime/prescan.hpp and ../shared/mimetic/README.md).
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
  // Every leaf part in tree order, decoded. A message/rfc822 part appears
  // once as itself (content_type "message/rfc822", body = the embedded
  // message as mimetic re-writes it: header fields unfolded, LF line ends)
  // and is then walked into (its leaves follow, with paths below it, e.g.
  // "2.1"). message/feedback-report and text/rfc822-headers are ordinary
  // leaves. A single-part message yields its body as part "1".
  std::vector<MailPart> parts;
};

// Parses one message. Errors: limit_exceeded (size, header line or unfolded
// field, depth, part count; checked before mimetic runs), malformed (empty,
// no header at all, mimetic failure). An mbox "From " line at the top is
// skipped.
Expected<MailMessage> parse_mail(std::string_view raw, const Limits& limits);

// RFC 2047 encoded-words -> UTF-8 (unknown charsets left as is).
std::string decode_rfc2047(std::string_view text);

}  // namespace dmarcq
