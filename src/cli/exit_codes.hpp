// The one table of exit codes (sysexits.h values, as MTAs expect from a
// delivery agent: 75 makes Postfix/Dovecot/procmail retry later, other
// non-zero codes bounce). README "Exit codes" mirrors this table.
#pragma once

#include "dmarcq/error.hpp"

namespace dmarcq::cli {

enum ExitCode : int {
  exit_ok = 0,           // stored, duplicate, or (MDA mode) kept as rejected
  exit_found = 1,        // `--exit-status`: something was listed
  exit_usage = 64,       // EX_USAGE: bad command line
  exit_data_error = 65,  // EX_DATAERR: an input was not a valid report (batch, or --strict)
  exit_no_input = 66,    // EX_NOINPUT: a named file does not exist / cannot be read
  exit_software = 70,    // EX_SOFTWARE: internal error (a bug)
  exit_cant_create = 73, // EX_CANTCREAT: cannot create the database
  exit_temp_fail = 75,   // EX_TEMPFAIL: try again later (database locked, disk full, I/O)
};

constexpr int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return exit_usage;
    case ErrorKind::not_a_report:
    case ErrorKind::malformed:
    case ErrorKind::limit_exceeded:
    case ErrorKind::unsupported: return exit_data_error;
    case ErrorKind::io: return exit_no_input;
    case ErrorKind::temporary: return exit_temp_fail;
    case ErrorKind::database: return exit_software;
    case ErrorKind::internal: return exit_software;
  }
  return exit_software;
}

}  // namespace dmarcq::cli
