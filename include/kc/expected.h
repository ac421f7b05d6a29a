// kc::expected and kc::unexpected: std::expected where the standard library
// provides it, else a small stand-in with the part of its interface that the
// project uses.
//
// libstdc++ 12 (Debian 12) declares std::expected only for compilers that
// implement C++20's conditionally trivial special members, which clang does
// from version 16 on; the libFuzzer build uses Debian 12's clang 14 with that
// library. Code names kc::expected and kc::unexpected so that it compiles
// either way; with GCC they are the standard types themselves.
//
// The stand-in keeps the standard's semantics for what it offers: an
// expected holds a value or an error, never neither; value() throws
// bad_expected_access; comparing an expected with a value or an unexpected
// is false when it holds the other. It stores a std::variant, which gives it
// the copy, move and destruction rules of its two types.
#pragma once

#include <version>

#if defined(__cpp_lib_expected) && __cpp_lib_expected >= 202202L

#include <expected>

namespace kc {
using std::bad_expected_access;
using std::expected;
using std::unexpect;
using std::unexpect_t;
using std::unexpected;
}  // namespace kc

#else

#include <concepts>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

namespace kc {

template <typename E>
class unexpected;
template <typename T, typename E>
class expected;

struct unexpect_t {
  explicit unexpect_t() = default;
};
inline constexpr unexpect_t unexpect{};

namespace expected_detail {

template <typename T>
inline constexpr bool kIsUnexpected = false;
template <typename E>
inline constexpr bool kIsUnexpected<unexpected<E>> = true;
template <typename T>
inline constexpr bool kIsExpected = false;
template <typename T, typename E>
inline constexpr bool kIsExpected<expected<T, E>> = true;

template <typename U>
inline constexpr bool kIsTag = std::is_same_v<std::remove_cvref_t<U>, std::in_place_t> ||
                               std::is_same_v<std::remove_cvref_t<U>, unexpect_t>;

// What unexpected<E> is made from: anything E is made from but a tag or an
// unexpected<E> (that would be a copy).
template <typename U, typename E>
concept ErrorSource = std::constructible_from<E, U> && !kIsTag<U> &&
                      !std::is_same_v<std::remove_cvref_t<U>, unexpected<E>>;

// What expected<T, E> takes as its value: anything T is made from but a
// tag, an expected or an unexpected.
template <typename U, typename T>
concept ValueSource =
    std::constructible_from<T, U> && !kIsTag<U> && !kIsExpected<std::remove_cvref_t<U>> &&
    !kIsUnexpected<std::remove_cvref_t<U>>;

}  // namespace expected_detail

template <typename E>
class unexpected {
 public:
  template <expected_detail::ErrorSource<E> Err = E>
  constexpr explicit unexpected(Err&& e) : error_(std::forward<Err>(e)) {}
  template <typename... Args>
  constexpr explicit unexpected(std::in_place_t, Args&&... args)
      : error_(std::forward<Args>(args)...) {}

  constexpr const E& error() const& noexcept { return error_; }
  constexpr E& error() & noexcept { return error_; }
  constexpr const E&& error() const&& noexcept { return std::move(error_); }
  constexpr E&& error() && noexcept { return std::move(error_); }

  template <typename E2>
  friend constexpr bool operator==(const unexpected& a, const unexpected<E2>& b) {
    return a.error() == b.error();
  }

 private:
  E error_;
};

template <typename E>
unexpected(E) -> unexpected<E>;

template <typename E>
class bad_expected_access : public std::exception {
 public:
  explicit bad_expected_access(E e) : error_(std::move(e)) {}
  const char* what() const noexcept override {
    return "bad access to kc::expected without expected value";
  }
  const E& error() const& noexcept { return error_; }
  E& error() & noexcept { return error_; }
  E&& error() && noexcept { return std::move(error_); }

 private:
  E error_;
};

// The error alternative is index 1 of the variant, the value (or, for void,
// std::monostate) index 0: by index, so that T and E may be the same type.
template <typename T, typename E>
class expected {
 public:
  using value_type = T;
  using error_type = E;
  using unexpected_type = unexpected<E>;

  constexpr expected() : v_(std::in_place_index<0>) {}
  template <expected_detail::ValueSource<T> U = T>
  constexpr explicit(!std::is_convertible_v<U, T>) expected(U&& v)
      : v_(std::in_place_index<0>, std::forward<U>(v)) {}
  template <typename G>
  constexpr explicit(!std::is_convertible_v<const G&, E>) expected(const unexpected<G>& e)
      : v_(std::in_place_index<1>, e.error()) {}
  template <typename G>
  constexpr explicit(!std::is_convertible_v<G, E>) expected(unexpected<G>&& e)
      : v_(std::in_place_index<1>, std::move(e).error()) {}
  template <typename... Args>
  constexpr explicit expected(std::in_place_t, Args&&... args)
      : v_(std::in_place_index<0>, std::forward<Args>(args)...) {}
  template <typename... Args>
  constexpr explicit expected(unexpect_t, Args&&... args)
      : v_(std::in_place_index<1>, std::forward<Args>(args)...) {}

  template <expected_detail::ValueSource<T> U = T>
  constexpr expected& operator=(U&& v) {
    v_.template emplace<0>(std::forward<U>(v));
    return *this;
  }
  template <typename G>
  constexpr expected& operator=(const unexpected<G>& e) {
    v_.template emplace<1>(e.error());
    return *this;
  }
  template <typename G>
  constexpr expected& operator=(unexpected<G>&& e) {
    v_.template emplace<1>(std::move(e).error());
    return *this;
  }
  template <typename... Args>
  constexpr T& emplace(Args&&... args) {
    return v_.template emplace<0>(std::forward<Args>(args)...);
  }

  constexpr bool has_value() const noexcept { return v_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }

  constexpr const T* operator->() const noexcept { return std::get_if<0>(&v_); }
  constexpr T* operator->() noexcept { return std::get_if<0>(&v_); }
  constexpr const T& operator*() const& noexcept { return *std::get_if<0>(&v_); }
  constexpr T& operator*() & noexcept { return *std::get_if<0>(&v_); }
  constexpr const T&& operator*() const&& noexcept { return std::move(*std::get_if<0>(&v_)); }
  constexpr T&& operator*() && noexcept { return std::move(*std::get_if<0>(&v_)); }

  constexpr const T& value() const& {
    if (!has_value()) throw bad_expected_access<E>(error());
    return **this;
  }
  constexpr T& value() & {
    if (!has_value()) throw bad_expected_access<E>(error());
    return **this;
  }
  constexpr T&& value() && {
    if (!has_value()) throw bad_expected_access<E>(std::move(error()));
    return std::move(**this);
  }

  constexpr const E& error() const& noexcept { return *std::get_if<1>(&v_); }
  constexpr E& error() & noexcept { return *std::get_if<1>(&v_); }
  constexpr const E&& error() const&& noexcept { return std::move(*std::get_if<1>(&v_)); }
  constexpr E&& error() && noexcept { return std::move(*std::get_if<1>(&v_)); }

  template <typename U>
  constexpr T value_or(U&& fallback) const& {
    return has_value() ? **this : static_cast<T>(std::forward<U>(fallback));
  }
  template <typename U>
  constexpr T value_or(U&& fallback) && {
    return has_value() ? std::move(**this) : static_cast<T>(std::forward<U>(fallback));
  }

  template <typename T2, typename E2>
  friend constexpr bool operator==(const expected& a, const expected<T2, E2>& b) {
    if (a.has_value() != b.has_value()) return false;
    return a.has_value() ? *a == *b : a.error() == b.error();
  }
  template <typename T2>
  friend constexpr bool operator==(const expected& a, const T2& v) {
    return a.has_value() && *a == v;
  }
  template <typename E2>
  friend constexpr bool operator==(const expected& a, const unexpected<E2>& e) {
    return !a.has_value() && a.error() == e.error();
  }

 private:
  std::variant<T, E> v_;
};

template <typename E>
class expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;
  using unexpected_type = unexpected<E>;

  constexpr expected() noexcept : v_(std::in_place_index<0>) {}
  template <typename G>
  constexpr explicit(!std::is_convertible_v<const G&, E>) expected(const unexpected<G>& e)
      : v_(std::in_place_index<1>, e.error()) {}
  template <typename G>
  constexpr explicit(!std::is_convertible_v<G, E>) expected(unexpected<G>&& e)
      : v_(std::in_place_index<1>, std::move(e).error()) {}
  constexpr explicit expected(std::in_place_t) noexcept : v_(std::in_place_index<0>) {}
  template <typename... Args>
  constexpr explicit expected(unexpect_t, Args&&... args)
      : v_(std::in_place_index<1>, std::forward<Args>(args)...) {}

  template <typename G>
  constexpr expected& operator=(const unexpected<G>& e) {
    v_.template emplace<1>(e.error());
    return *this;
  }
  template <typename G>
  constexpr expected& operator=(unexpected<G>&& e) {
    v_.template emplace<1>(std::move(e).error());
    return *this;
  }
  constexpr void emplace() noexcept { v_.template emplace<0>(); }

  constexpr bool has_value() const noexcept { return v_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr void operator*() const noexcept {}

  constexpr void value() const& {
    if (!has_value()) throw bad_expected_access<E>(error());
  }
  constexpr void value() && {
    if (!has_value()) throw bad_expected_access<E>(std::move(error()));
  }

  constexpr const E& error() const& noexcept { return *std::get_if<1>(&v_); }
  constexpr E& error() & noexcept { return *std::get_if<1>(&v_); }
  constexpr const E&& error() const&& noexcept { return std::move(*std::get_if<1>(&v_)); }
  constexpr E&& error() && noexcept { return std::move(*std::get_if<1>(&v_)); }

  template <typename E2>
  friend constexpr bool operator==(const expected& a, const expected<void, E2>& b) {
    if (a.has_value() != b.has_value()) return false;
    return a.has_value() || a.error() == b.error();
  }
  template <typename E2>
  friend constexpr bool operator==(const expected& a, const unexpected<E2>& e) {
    return !a.has_value() && a.error() == e.error();
  }

 private:
  std::variant<std::monostate, E> v_;
};

}  // namespace kc

#endif
