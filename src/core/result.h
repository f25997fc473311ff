// Result<T>: a value or an Error, with std::expected-like names (C++20 has no
// std::expected). Cheap to move; accessing the wrong side is a programming error.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "core/error.h"

namespace hfm {

struct Unexpected {
  Error error;
};

inline Unexpected unexpected(Error e) { return Unexpected{std::move(e)}; }
inline Unexpected unexpected(ErrorCode code, std::string message) {
  return Unexpected{make_error(code, std::move(message))};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}         // NOLINT implicit
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}             // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }
  Error& error() {
    assert(!has_value());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : err_(std::move(u.error)), ok_(false) {}  // NOLINT
  Result(Error e) : err_(std::move(e)), ok_(false) {}             // NOLINT
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return err_;
  }
  Error& error() {
    assert(!ok_);
    return err_;
  }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace hfm

// Propagate an error from an expression returning Result/Status.
#define HFM_TRY(expr)                                                         \
  do {                                                                        \
    auto&& hfm_try_r_ = (expr);                                               \
    if (!hfm_try_r_) return ::hfm::unexpected(std::move(hfm_try_r_.error())); \
  } while (0)

#define HFM_CONCAT_INNER(a, b) a##b
#define HFM_CONCAT(a, b) HFM_CONCAT_INNER(a, b)
#define HFM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)             \
  auto tmp = (expr);                                          \
  if (!tmp) return ::hfm::unexpected(std::move(tmp.error())); \
  lhs = std::move(tmp).value()
// HFM_ASSIGN_OR_RETURN(auto x, f());
#define HFM_ASSIGN_OR_RETURN(lhs, expr) HFM_ASSIGN_OR_RETURN_IMPL(HFM_CONCAT(hfm_r_, __LINE__), lhs, expr)
