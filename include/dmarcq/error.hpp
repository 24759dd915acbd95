// Typed errors with context, and Expected<T> for bad input.
//
// Bad input is an ordinary outcome for a tool that reads what strangers mail
// it, so parsers return Expected<T> rather than throwing. Exceptions are kept
// for programming errors and for the store (where SQLite failures unwind a
// transaction). The CLI maps ErrorKind to a sysexits code in one table.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace dmarcq {

enum class ErrorKind {
  usage,          // bad command line
  not_a_report,   // input is not a DMARC report (wrong format, junk, empty)
  malformed,      // looks like a report but is broken (invalid XML, missing fields)
  limit_exceeded, // a configured safety limit was hit
  unsupported,    // recognised, but not handled (yet)
  io,             // could not read/write a file
  temporary,      // retry later: database busy/locked, disk full
  database,       // permanent database problem (corrupt, newer schema)
  internal,       // a bug
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
  // Where the problem is: an XML path like "record[3]/row/source_ip", a byte
  // offset like "byte 1234", a zip member name. Empty when not applicable.
  std::string where;

  // "where: message" or just "message".
  [[nodiscard]] std::string describe() const;
};

// Thrown where unwinding is the natural way out (store, CLI). Carries an Error.
class Failure : public std::runtime_error {
 public:
  explicit Failure(Error error);
  Failure(ErrorKind kind, std::string message, std::string where = {});
  [[nodiscard]] const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Expected(Error error) : state_(std::move(error)) {}  // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Expected*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return const_cast<Expected*>(this)->checked(); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &const_cast<Expected*>(this)->checked(); }

  [[nodiscard]] const Error& error() const { return std::get<1>(state_); }

 private:
  T& checked() {
    if (!has_value()) throw Failure(std::get<1>(state_));
    return std::get<0>(state_);
  }
  std::variant<T, Error> state_;
};

inline Error make_error(ErrorKind kind, std::string message, std::string where = {}) {
  return Error{kind, std::move(message), std::move(where)};
}

}  // namespace dmarcq
