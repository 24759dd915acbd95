// Where messages come from: Maildir folders and mbox files. Plain files and
// directories are walked by the CLI. No third-party library here.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dmarcq/error.hpp"

namespace dmarcq {

// Plain strings, not std::filesystem::path (which keeps a parsed copy of
// every component): a 100,000-message Maildir listing took 136 MB that way.
struct MaildirMessage {
  std::string path;    // .../new/NAME or .../cur/NAME:2,FLAGS
  std::string folder;  // the Maildir (parent of new/ and cur/)
  bool in_new = false;
  bool seen = false;            // has the S flag
};

// A directory with cur/ and new/ subdirectories.
bool is_maildir(const std::filesystem::path& dir);

// Messages of new/ and cur/ in name order; Seen ones only with include_seen.
// With `recursive`, also Maildir++ sub-folders (".Folder" directories).
std::vector<MaildirMessage> list_maildir(const std::filesystem::path& dir, bool recursive,
                                         bool include_seen);

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
