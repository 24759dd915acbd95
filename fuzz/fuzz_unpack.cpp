// libFuzzer harness: archive unpacking (zip / gzip / zlib / plain XML sniffing).
// Any bytes must give documents or an Error, never a crash, hang or unbounded
// memory. Uses the production default limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dmarcq/archive.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  static const dmarcq::Limits limits{};
  auto result = dmarcq::unpack(bytes, limits);
  if (result) {
    for (const auto& document : result->documents) {
      // Touch every byte so ASan sees any bad buffer handed back.
      volatile std::size_t sum = 0;
      for (char c : document.bytes) sum = sum + static_cast<unsigned char>(c);
      (void)dmarcq::sniff_format(document.bytes);
    }
  } else {
    (void)result.error().describe();
  }
  return 0;
}
