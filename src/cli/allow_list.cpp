#include "allow_list.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "dmarcq/error.hpp"
#include "dmarcq/text.hpp"

namespace dmarcq::cli {

std::vector<KnownSender> parse_allow_list(const std::string& text, const std::string& origin) {
  std::vector<KnownSender> senders;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    std::string_view rest = line;
    if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
    rest = trim(rest);
    if (rest.empty()) continue;
    const auto space = rest.find_first_of(" \t");
    const std::string_view cidr = rest.substr(0, space);
    const std::string_view label = space == std::string_view::npos ? std::string_view() : trim(rest.substr(space));
    const auto range = parse_cidr(cidr);
    if (!range)
      throw Failure(ErrorKind::usage,
                    fmt::format("{}:{}: not an address or CIDR: {}", printable(origin), number, printable(cidr)));
    senders.push_back({*range, label.empty() ? std::string(cidr) : std::string(label)});
  }
  return senders;
}

std::vector<KnownSender> load_allow_list(const std::string& option) {
  std::string path = option;
  bool required = !path.empty();
  if (path.empty()) {
    if (const char* env = std::getenv("DMARCQ_ALLOW_LIST"); env && *env) {
      path = env;
      required = true;
    } else if (const char* config = std::getenv("XDG_CONFIG_HOME"); config && *config) {
      path = std::string(config) + "/dmarcq/senders";
    } else if (const char* home = std::getenv("HOME"); home && *home) {
      path = std::string(home) + "/.config/dmarcq/senders";
    }
  }
  if (path.empty() || path == "-" || path == "none") return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!required) return {};
    throw Failure(ErrorKind::io, fmt::format("cannot read allow-list {}", printable(path)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_allow_list(text.str(), path);
}

}  // namespace dmarcq::cli
