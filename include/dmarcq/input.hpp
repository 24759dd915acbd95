// Where messages come from: Maildir folders and mbox files. Plain files and
// directories are walked by the CLI. No third-party library here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/error.hpp"

namespace dmarcq {

struct MaildirMessage {
  std::string path;    // .../new/NAME or .../cur/NAME:2,FLAGS
  std::string folder;  // the Maildir (parent of new/ and cur/)
  bool in_new = false;
  bool seen = false;            // has the S flag
};

// A directory with cur/ and new/ subdirectories.
bool is_maildir(const std::filesystem::path& dir);

// The messages of Maildirs, listed before a batch import starts, kept
// compactly: each name once in one buffer, the folder once for all its
// messages. As MaildirMessage structs, a 100,000-message listing took ~17 MB
// of the batch's 64 MB budget (as std::filesystem::path, 136 MB).
class MaildirListing {
 public:
  // Appends the messages of new/ then cur/ of `dir`, each in name order;
  // Seen ones only with include_seen. With `recursive`, then those of its
  // Maildir++ sub-folders (".Folder" directories), in name order.
  void add(const std::filesystem::path& dir, bool recursive, bool include_seen);

  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] MaildirMessage operator[](std::size_t index) const;

 private:
  void add_folder(const std::filesystem::path& folder, bool include_seen);

  struct Entry {
    std::size_t name_at;
    std::uint32_t name_size;
    std::uint32_t folder;  // index in folders_
    bool in_new, seen;
  };
  std::vector<std::string> folders_;
  std::string names_;
  std::vector<Entry> entries_;
};

// Marks a message processed per the Maildir spec: renamed into cur/ with the
// S flag added (never rewritten, never deleted), in its own folder or in
// `destination` (another Maildir). Returns false when the message is gone
// (another process moved it: not an error); io error when the rename fails.
Expected<bool> mark_processed(const MaildirMessage& message,
                              const std::optional<std::filesystem::path>& destination);

// Splits an mbox (mboxo/mboxrd) into its messages: a line "From " starts a
// message; the separator line itself is dropped and ">From " lines are
// unquoted (one '>' removed), as mboxrd writers quote them.
std::vector<std::string> split_mbox(std::string_view mbox);

}  // namespace dmarcq
