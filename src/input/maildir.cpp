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

}  // namespace

bool is_maildir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "cur", ec) && fs::is_directory(dir / "new", ec);
}

void MaildirListing::add(const fs::path& dir, bool recursive, bool include_seen) {
  add_folder(dir, include_seen);
  if (!recursive) return;
  std::vector<fs::path> folders;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > 1 && name[0] == '.' && is_maildir(it->path())) folders.push_back(it->path());
  }
  std::sort(folders.begin(), folders.end());
  for (const auto& folder : folders) add_folder(folder, include_seen);
}

void MaildirListing::add_folder(const fs::path& folder, bool include_seen) {
  const auto folder_index = static_cast<std::uint32_t>(folders_.size());
  folders_.push_back(folder.string());
  for (const char* sub : {"new", "cur"}) {
    const std::size_t first = entries_.size();
    std::error_code ec;
    for (fs::directory_iterator it(folder / sub, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.empty() || name[0] == '.') continue;  // dot files are not messages
      if (!it->is_regular_file(ec)) continue;
      const bool in_new = std::strcmp(sub, "new") == 0;
      const bool seen = !in_new && flags_of(name).find('S') != std::string_view::npos;
      if (seen && !include_seen) continue;
      entries_.push_back(Entry{names_.size(), static_cast<std::uint32_t>(name.size()), folder_index, in_new, seen});
      names_ += name;
    }
    const std::string_view names(names_);
    std::sort(entries_.begin() + static_cast<std::ptrdiff_t>(first), entries_.end(),
              [names](const Entry& a, const Entry& b) {
                return names.substr(a.name_at, a.name_size) < names.substr(b.name_at, b.name_size);
              });
  }
}

MaildirMessage MaildirListing::operator[](std::size_t index) const {
  const Entry& entry = entries_.at(index);
  MaildirMessage message;
  message.folder = folders_[entry.folder];
  message.path = (fs::path(message.folder) / (entry.in_new ? "new" : "cur") /
                  std::string_view(names_).substr(entry.name_at, entry.name_size))
                     .string();
  message.in_new = entry.in_new;
  message.seen = entry.seen;
  return message;
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
