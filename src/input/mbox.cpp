#include "dmarcq/input.hpp"

namespace dmarcq {

namespace {
bool is_quoted_from(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] == '>') ++i;
  return i > 0 && line.substr(i).substr(0, 5) == "From ";
}
}  // namespace

std::vector<std::string> split_mbox(std::string_view mbox) {
  std::vector<std::string> messages;
  std::string current;
  bool in_message = false;
  std::size_t position = 0;
  while (position < mbox.size()) {
    auto end = mbox.find('\n', position);
    end = end == std::string_view::npos ? mbox.size() : end + 1;
    const std::string_view line = mbox.substr(position, end - position);
    position = end;
    if (line.substr(0, 5) == "From ") {
      if (in_message) messages.push_back(std::move(current));
      current.clear();
      in_message = true;
      continue;
    }
    if (!in_message) continue;  // junk before the first separator
    if (is_quoted_from(line))
      current.append(line.substr(1));
    else
      current.append(line);
  }
  if (in_message) messages.push_back(std::move(current));
  return messages;
}

}  // namespace dmarcq
