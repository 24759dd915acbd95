#include "dmarcq/error.hpp"

namespace dmarcq {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return "usage";
    case ErrorKind::not_a_report: return "not a report";
    case ErrorKind::malformed: return "malformed";
    case ErrorKind::limit_exceeded: return "limit exceeded";
    case ErrorKind::unsupported: return "unsupported";
    case ErrorKind::io: return "i/o error";
    case ErrorKind::temporary: return "temporary failure";
    case ErrorKind::database: return "database error";
    case ErrorKind::internal: return "internal error";
  }
  return "error";
}

std::string Error::describe() const {
  if (where.empty()) return message;
  return where + ": " + message;
}

Failure::Failure(Error error) : std::runtime_error(error.describe()), error_(std::move(error)) {}

Failure::Failure(ErrorKind kind, std::string message, std::string where)
    : Failure(Error{kind, std::move(message), std::move(where)}) {}

}  // namespace dmarcq
