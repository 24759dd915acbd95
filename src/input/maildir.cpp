#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>

#include <fmt/format.h>

#include "dmarcq/input.hpp"

namespace dmarcq {

namespace fs = std::filesystem;

namespace {

// "NAME:2,FLAGS" -> FLAGS ("" when the name has no info part).
std::string_view flags_of(std::string_view name) {
  const auto info = name.rfind(":2,");
  return info == std::string_view::npos ? std::string_view() : name.substr(info + 3);
}

std::string_view unique_part(std::string_view name) {
  const auto info = name.rfind(":2,");
  return info == std::string_view::npos ? name : name.substr(0, info);
}

void list_folder(const fs::path& folder, bool include_seen, std::vector<MaildirMessage>& out) {
  for (const char* sub : {"new", "cur"}) {
    std::error_code ec;
    std::vector<MaildirMessage> found;
    for (fs::directory_iterator it(folder / sub, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.empty() || name[0] == '.') continue;  // dot files are not messages
      if (!it->is_regular_file(ec)) continue;
      MaildirMessage message;
      message.path = it->path().string();
      message.folder = folder.string();
      message.in_new = std::strcmp(sub, "new") == 0;
      message.seen = !message.in_new && flags_of(name).find('S') != std::string_view::npos;
      if (message.seen && !include_seen) continue;
      found.push_back(std::move(message));
    }
    std::sort(found.begin(), found.end(),
              [](const MaildirMessage& a, const MaildirMessage& b) { return a.path < b.path; });
    out.insert(out.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
  }
}

}  // namespace

bool is_maildir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "cur", ec) && fs::is_directory(dir / "new", ec);
}

std::vector<MaildirMessage> list_maildir(const fs::path& dir, bool recursive, bool include_seen) {
  std::vector<MaildirMessage> messages;
  list_folder(dir, include_seen, messages);
  if (!recursive) return messages;
  std::vector<fs::path> folders;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > 1 && name[0] == '.' && is_maildir(it->path())) folders.push_back(it->path());
  }
  std::sort(folders.begin(), folders.end());
  for (const auto& folder : folders) list_folder(folder, include_seen, messages);
  return messages;
}

Expected<bool> mark_processed(const MaildirMessage& message,
                              const std::optional<fs::path>& destination) {
  const std::string name = fs::path(message.path).filename().string();
  std::string flags(flags_of(name));
  if (flags.find('S') == std::string::npos) {
    flags += 'S';
    std::sort(flags.begin(), flags.end());  // the spec wants flags in ASCII order
  }
  const fs::path folder = destination ? *destination : fs::path(message.folder);
  const fs::path target = folder / "cur" / (std::string(unique_part(name)) + ":2," + flags);
  if (target == fs::path(message.path)) return true;
  if (destination) {
    std::error_code ec;
    fs::create_directories(folder / "cur", ec);
    fs::create_directories(folder / "new", ec);
    fs::create_directories(folder / "tmp", ec);
  }
  if (std::rename(message.path.c_str(), target.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  return make_error(ErrorKind::io,
                    fmt::format("cannot move to {}: {}", target.string(), std::strerror(errno)),
                    message.path);
}

}  // namespace dmarcq
