// The reported message's header fields.
#include "arf_internal.hpp"
#include "dmarcq/mime.hpp"
#include "dmarcq/text.hpp"

namespace dmarcq::arf {

namespace {

std::string message_id_of(std::string_view value) {
  std::string_view id = trim(value);
  if (const std::size_t open = id.find('<'); open != std::string_view::npos) {
    id.remove_prefix(open + 1);
    id = id.substr(0, id.find('>'));
  }
  return std::string(trim(id));
}

}  // namespace

std::string dkim_tag(std::string_view signature, std::string_view tag) {
  std::size_t start = 0;
  while (start < signature.size()) {
    std::size_t end = signature.find(';', start);
    if (end == std::string_view::npos) end = signature.size();
    const std::string_view spec = signature.substr(start, end - start);
    if (const std::size_t equals = spec.find('='); equals != std::string_view::npos &&
                                                   iequals(trim(spec.substr(0, equals)), tag)) {
      std::string value;
      for (const char c : trim(spec.substr(equals + 1)))
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') value += c;
      return value;
    }
    start = end + 1;
  }
  return {};
}

void read_original_headers(OriginalMessage& original, std::string_view headers) {
  original.headers = std::string(headers);
  for (const HeaderField& field : parse_feedback_fields(headers)) {
    const std::string name = to_lower_ascii(field.name);
    if (name == "from" && !original.from) {
      original.from = decode_rfc2047(field.value);
    } else if (name == "to" && !original.to) {
      original.to = decode_rfc2047(field.value);
    } else if (name == "subject" && !original.subject) {
      original.subject = decode_rfc2047(field.value);
    } else if (name == "date" && !original.date) {
      original.date = field.value;
      original.date_epoch = parse_rfc5322_date(field.value);
    } else if (name == "message-id" && !original.message_id) {
      original.message_id = message_id_of(field.value);
    } else if (name == "authentication-results") {
      original.authentication_results.push_back(field.value);
    } else if (name == "dkim-signature") {
      original.dkim_signatures.push_back(
          DkimSignatureRef{dkim_tag(field.value, "d"), dkim_tag(field.value, "s")});
    }
  }
}

}  // namespace dmarcq::arf
