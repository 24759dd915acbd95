// Walks a parsed mimetic tree into the flat list of decoded leaf parts that
// dmarcq::parse_mail returns: multipart/* recursively, message/rfc822 as a
// raw copy plus the embedded message's parts, everything else as a leaf.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dmarcq/mime.hpp"
#include "mimetic_entity.hpp"

namespace dmarcq::mime {

class PartWalker {
 public:
  explicit PartWalker(const Limits& limits) : limits_(limits) {}

  // Walks a whole message whose parts get paths below `prefix` ("" for the
  // top level: "1", "2", ...; "2" for a message in part 2: "2.1", ...).
  std::optional<Error> walk_message(const mimetic::MimeEntity& message, const std::string& prefix,
                                    std::uint32_t depth);

  std::vector<MailPart>& parts() { return parts_; }

 private:
  std::optional<Error> walk_part(const mimetic::MimeEntity& part, const std::string& path,
                                 std::uint32_t depth);
  std::optional<Error> walk_children(const mimetic::MimeEntity& multipart,
                                     const std::string& prefix, std::uint32_t depth);
  std::optional<Error> walk_embedded_message(const mimetic::MimeEntity& part,
                                             const std::string& path, std::uint32_t depth);
  // Parses `text` as a message of its own (guards included) and walks it.
  std::optional<Error> walk_reparsed(std::string text, const std::string& prefix,
                                     std::uint32_t depth);
  std::optional<Error> emit(MailPart part);

  const Limits& limits_;
  std::vector<MailPart> parts_;
  std::uint64_t copied_bytes_ = 0;  // raw embedded messages and re-parsed text
};

}  // namespace dmarcq::mime
