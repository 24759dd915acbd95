#include "process.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace dmarcq::test {

std::string quote(const std::string& argument) {
  std::string quoted = "'";
  for (char c : argument) {
    if (c == '\'') quoted += "'\\''";
    else quoted += c;
  }
  return quoted + "'";
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

CommandResult run_command(const std::string& command, const std::string& stdin_file) {
  TempDir scratch;
  const std::string out_file = scratch.file("out");
  const std::string err_file = scratch.file("err");
  // A subshell, so that redirections cover a whole pipeline or script.
  std::string full = "( " + command + "\n) >" + quote(out_file) + " 2>" + quote(err_file);
  full += stdin_file.empty() ? " </dev/null" : " <" + quote(stdin_file);
  const int status = std::system(full.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_text_file(out_file);
  result.err = read_text_file(err_file);
  return result;
}

MeasuredResult run_measured(const std::string& command) {
  TempDir scratch;
  const std::string out_file = scratch.file("out");
  const std::string err_file = scratch.file("err");
  const std::string script = "exec " + command + " >" + quote(out_file) + " 2>" + quote(err_file) + " </dev/null";
  MeasuredResult measured;
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  if (wait4(pid, &status, 0, &usage) < 0) throw std::runtime_error("wait4 failed");
  measured.result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  measured.result.out = read_text_file(out_file);
  measured.result.err = read_text_file(err_file);
  measured.peak_rss_kib = usage.ru_maxrss;
  return measured;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/dmarcq-test-XXXXXX";
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace dmarcq::test
