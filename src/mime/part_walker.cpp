#include "part_walker.hpp"

#include "dmarcq/text.hpp"
#include "header_params.hpp"
#include "transfer_decoding.hpp"

namespace dmarcq::mime {

namespace {

// What the walk needs from a part's header, parsed by dmarcq (not mimetic).
struct PartHeader {
  std::string content_type;       // lowercased type/subtype, "" when absent
  std::string content_type_raw;   // the field value as written
  bool from_typo_field = false;   // came from "ContentType:" (no Content-Type)
  std::string transfer_encoding;  // lowercased, trimmed
  std::string filename;           // decoded, "" when none
};

PartHeader read_part_header(const mimetic::MimeEntity& entity) {
  PartHeader header;
  auto content_type = field_value(entity, "Content-Type");
  if (!content_type) {
    content_type = field_value(entity, "ContentType");
    header.from_typo_field = content_type.has_value();
  }
  ParameterizedValue type_value;
  if (content_type) {
    header.content_type_raw = *content_type;
    type_value = parse_parameterized_value(*content_type);
    header.content_type = type_value.token;
  }
  header.transfer_encoding =
      to_lower_ascii(trim(field_value(entity, "Content-Transfer-Encoding").value_or("")));
  if (auto disposition = field_value(entity, "Content-Disposition"))
    header.filename = parse_parameterized_value(*disposition).param("filename");
  if (header.filename.empty()) header.filename = type_value.param("name");
  return header;
}

bool is_encoded(const std::string& transfer_encoding) {
  return transfer_encoding == "base64" || transfer_encoding == "quoted-printable";
}

// mimetic only knows "Content-Type:", so it took a multipart announced by a
// "ContentType:" field for a leaf: rebuild it with the field name corrected.
std::string corrected_multipart(const PartHeader& header, const mimetic::MimeEntity& entity) {
  std::string text = "Content-Type: " + header.content_type_raw + "\r\n\r\n";
  text += entity.body();
  return text;
}

std::string child_path(const std::string& prefix, std::size_t index) {
  return prefix.empty() ? std::to_string(index) : prefix + "." + std::to_string(index);
}

}  // namespace

std::optional<Error> PartWalker::emit(MailPart part) {
  if (parts_.size() >= limits_.max_mime_parts)
    return make_error(ErrorKind::limit_exceeded,
                      "more than " + std::to_string(limits_.max_mime_parts) + " MIME parts");
  parts_.push_back(std::move(part));
  return std::nullopt;
}

std::optional<Error> PartWalker::walk_message(const mimetic::MimeEntity& message,
                                              const std::string& prefix, std::uint32_t depth) {
  // A multipart message's parts are numbered; a single-part message is its
  // own part 1 (as IMAP numbers it).
  const PartHeader header = read_part_header(message);
  if (!message.body().parts().empty() && header.content_type != "message/rfc822")
    return walk_children(message, prefix, depth);
  if (message.body().parts().empty() && header.from_typo_field &&
      header.content_type.starts_with("multipart/"))
    return walk_reparsed(corrected_multipart(header, message), prefix, depth);
  return walk_part(message, child_path(prefix, 1), depth);
}

std::optional<Error> PartWalker::walk_children(const mimetic::MimeEntity& multipart,
                                               const std::string& prefix, std::uint32_t depth) {
  std::size_t index = 0;
  for (const mimetic::MimeEntity* child : multipart.body().parts()) {
    if (child == nullptr) continue;
    if (auto error = walk_part(*child, child_path(prefix, ++index), depth + 1)) return error;
  }
  return std::nullopt;
}

std::optional<Error> PartWalker::walk_part(const mimetic::MimeEntity& part,
                                           const std::string& path, std::uint32_t depth) {
  const PartHeader header = read_part_header(part);
  const bool is_multipart = header.content_type.starts_with("multipart/");
  const bool is_message = header.content_type == "message/rfc822";

  if (is_message) return walk_embedded_message(part, path, depth);
  if (!part.body().parts().empty()) return walk_children(part, path, depth);
  if (header.from_typo_field && is_multipart) {
    return walk_reparsed(corrected_multipart(header, part), path, depth);
  }
  if (is_multipart) return std::nullopt;  // no boundary found: nothing inside

  return emit(MailPart{header.content_type, header.filename, path,
                       decode_transfer_encoding(part.body(), header.transfer_encoding)});
}

std::optional<Error> PartWalker::walk_embedded_message(const mimetic::MimeEntity& part,
                                                       const std::string& path,
                                                       std::uint32_t depth) {
  const PartHeader header = read_part_header(part);
  const mimetic::MimeEntity* embedded =
      part.body().parts().empty() ? nullptr : part.body().parts().front();

  // The original text of the embedded message, for the failure-report stage.
  // mimetic parsed it into a child entity; writing that child back gives its
  // header fields (unfolded) and body.
  std::string raw;
  if (embedded != nullptr) {
    raw = embedded->header().empty() ? std::string(embedded->body()) : serialize(*embedded);
  } else {
    raw = part.body();  // "ContentType:" typo: mimetic kept the text as a body
  }
  // RFC 2046 forbids encoding message/rfc822, senders do it anyway: mimetic
  // then parsed base64 text as a message, so decode and parse it again.
  const bool reparse = is_encoded(header.transfer_encoding) || embedded == nullptr;
  if (reparse) raw = decode_transfer_encoding(raw, header.transfer_encoding);

  copied_bytes_ += raw.size();
  if (copied_bytes_ > limits_.max_message_bytes)
    return make_error(ErrorKind::limit_exceeded,
                      "embedded messages add up to more than " +
                          std::to_string(limits_.max_message_bytes) + " bytes");
  if (auto error = emit(MailPart{"message/rfc822", header.filename, path, raw})) return error;

  if (reparse) return walk_reparsed(std::move(raw), path, depth + 1);
  return walk_message(*embedded, path, depth + 1);
}

std::optional<Error> PartWalker::walk_reparsed(std::string text, const std::string& prefix,
                                               std::uint32_t depth) {
  copied_bytes_ += text.size();
  if (copied_bytes_ > limits_.max_message_bytes)
    return make_error(ErrorKind::limit_exceeded,
                      "re-parsed parts add up to more than " +
                          std::to_string(limits_.max_message_bytes) + " bytes");
  if (depth >= limits_.max_mime_depth)
    return make_error(ErrorKind::limit_exceeded,
                      "more than " + std::to_string(limits_.max_mime_depth) +
                          " nested multipart/message parts");
  auto entity = load_entity(text, limits_, PrescanOptions{depth});
  if (!entity) return entity.error();
  return walk_message(**entity, prefix, depth);
}

}  // namespace dmarcq::mime
