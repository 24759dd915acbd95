#include "dmarcq/failure_model.hpp"

#include "dmarcq/text.hpp"

namespace dmarcq {

namespace {

template <typename E, std::size_t N>
Enumerated<E> parse_enum(std::string_view text, const std::array<E, N>& values) {
  const std::string_view trimmed = trim(text);
  if (trimmed.empty()) return {};
  for (const E value : values)
    if (iequals(trimmed, to_string(value))) return {value, {}};
  return {E::unknown, std::string(trimmed)};
}

}  // namespace

std::string_view to_string(FeedbackType v) {
  switch (v) {
    case FeedbackType::absent: return "";
    case FeedbackType::abuse: return "abuse";
    case FeedbackType::auth_failure: return "auth-failure";
    case FeedbackType::fraud: return "fraud";
    case FeedbackType::not_spam: return "not-spam";
    case FeedbackType::other: return "other";
    case FeedbackType::virus: return "virus";
    case FeedbackType::unknown: return "unknown";
  }
  return "unknown";
}

std::string_view to_string(AuthFailure v) {
  switch (v) {
    case AuthFailure::absent: return "";
    case AuthFailure::adsp: return "adsp";
    case AuthFailure::bodyhash: return "bodyhash";
    case AuthFailure::revoked: return "revoked";
    case AuthFailure::signature: return "signature";
    case AuthFailure::spf: return "spf";
    case AuthFailure::dmarc: return "dmarc";
    case AuthFailure::unknown: return "unknown";
  }
  return "unknown";
}

std::string_view to_string(DeliveryResult v) {
  switch (v) {
    case DeliveryResult::absent: return "";
    case DeliveryResult::delivered: return "delivered";
    case DeliveryResult::spam: return "spam";
    case DeliveryResult::policy: return "policy";
    case DeliveryResult::reject: return "reject";
    case DeliveryResult::other: return "other";
    case DeliveryResult::unknown: return "unknown";
  }
  return "unknown";
}

Enumerated<FeedbackType> parse_feedback_type(std::string_view text) {
  return parse_enum(text, std::array{FeedbackType::abuse, FeedbackType::auth_failure,
                                     FeedbackType::fraud, FeedbackType::not_spam,
                                     FeedbackType::other, FeedbackType::virus});
}

Enumerated<AuthFailure> parse_auth_failure(std::string_view text) {
  return parse_enum(text, std::array{AuthFailure::adsp, AuthFailure::bodyhash,
                                     AuthFailure::revoked, AuthFailure::signature,
                                     AuthFailure::spf, AuthFailure::dmarc});
}

Enumerated<DeliveryResult> parse_delivery_result(std::string_view text) {
  return parse_enum(text, std::array{DeliveryResult::delivered, DeliveryResult::spam,
                                     DeliveryResult::policy, DeliveryResult::reject,
                                     DeliveryResult::other});
}

}  // namespace dmarcq
