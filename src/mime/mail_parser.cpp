// dmarcq::parse_mail: guards + mimetic parse + tree walk, and the top-level
// header fields a report needs.
#include <optional>

#include "dmarcq/mime.hpp"
#include "dmarcq/text.hpp"
#include "header_params.hpp"
#include "mimetic_entity.hpp"
#include "part_walker.hpp"

namespace dmarcq {

namespace {

std::optional<std::string> decoded_field(const mimetic::MimeEntity& message, std::string_view name) {
  auto value = mime::field_value(message, name);
  if (!value) return std::nullopt;
  return decode_rfc2047(trim(*value));
}

// "<abc@example.com>" -> "abc@example.com"; tolerant of missing brackets.
std::optional<std::string> message_id(const mimetic::MimeEntity& message) {
  auto value = mime::field_value(message, "Message-ID");
  if (!value) return std::nullopt;
  std::string_view id = trim(*value);
  if (const auto open = id.find('<'); open != std::string_view::npos) {
    id.remove_prefix(open + 1);
    id = id.substr(0, id.find('>'));
  }
  return std::string(trim(id));
}

std::string top_level_content_type(const mimetic::MimeEntity& message) {
  auto value = mime::field_value(message, "Content-Type");
  if (!value) value = mime::field_value(message, "ContentType");
  return value ? mime::parse_parameterized_value(*value).token : std::string();
}

}  // namespace

Expected<MailMessage> parse_mail(std::string_view raw, const Limits& limits) {
  if (trim(raw).empty()) return make_error(ErrorKind::malformed, "empty message");
  auto entity = mime::load_entity(raw, limits);
  if (!entity) return entity.error();
  const mimetic::MimeEntity& message = **entity;
  if (message.header().empty())
    return make_error(ErrorKind::malformed, "no header fields at the start of the message");

  MailMessage mail;
  mail.message_id = message_id(message);
  mail.from = decoded_field(message, "From");
  mail.subject = decoded_field(message, "Subject");
  if (auto date = mime::field_value(message, "Date")) mail.date = std::string(trim(*date));
  mail.content_type = top_level_content_type(message);

  mime::PartWalker walker(limits);
  if (auto error = walker.walk_message(message, "", 0)) {
    if (mail.message_id) error->where = "Message-ID " + *mail.message_id;
    return *error;
  }
  mail.parts = std::move(walker.parts());
  return mail;
}

}  // namespace dmarcq
