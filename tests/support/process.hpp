// Test support: run a command through /bin/sh and capture what it prints.
#pragma once

#include <string>

namespace dmarcq::test {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `command` with /bin/sh; stdin from `stdin_file` when not empty.
CommandResult run_command(const std::string& command, const std::string& stdin_file = {});

struct MeasuredResult {
  CommandResult result;
  long peak_rss_kib = 0;  // the command's own peak resident set size
};

// Runs one program (through `exec` in /bin/sh, so that the measured process
// is the program itself) and reports its peak RSS.
MeasuredResult run_measured(const std::string& command);

// Shell-quotes one argument.
std::string quote(const std::string& argument);

// A fresh empty directory under $TMPDIR, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_text_file(const std::string& path);

}  // namespace dmarcq::test
