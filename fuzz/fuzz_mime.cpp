// libFuzzer harness: one RFC 5322 / MIME message -> decoded parts (prescan
// guards, mimetic, our transfer and RFC 2047 / 2231 decoders). Uses the
// production default limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dmarcq/mime.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  static const dmarcq::Limits limits{};
  auto mail = dmarcq::parse_mail(raw, limits);
  if (mail) {
    volatile std::size_t sum = 0;
    for (const auto& part : mail->parts) sum = sum + part.body.size() + part.filename.size();
    if (mail->subject) (void)dmarcq::decode_rfc2047(*mail->subject);
  } else {
    (void)mail.error().describe();
  }
  return 0;
}
