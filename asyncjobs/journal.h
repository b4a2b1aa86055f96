#ifndef ASYNCJOBS_JOURNAL_H_
#define ASYNCJOBS_JOURNAL_H_

// ResultCodec: how a job's result is written to a run's journal and read back
// (SchedulerOptions::journal). A job is journaled only when its result type has one.
//
// Specialise `ResultCodec<T>` for your own result types: `encode` turns a value into bytes,
// `decode` gives back an equal value (it may throw: the job then runs again). Provided for
// void, bool, arithmetic types, std::string and std::vector<std::string> here, and beside the
// jobs that return other types (ProcessResult in process_job.h). Composite values can reuse
// the std::vector<std::string> codec for their fields (see examples/resume.cc).

#include <any>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <typeinfo>
#include <vector>

namespace asyncjobs {

template <class T, class = void>
struct ResultCodec;  // not defined: T is not journaled

// Thrown when a journal file cannot be used (not a journal, a newer format, unreadable);
// the message names the file.
class JournalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <>
struct ResultCodec<void> {
  static std::string encode() { return ""; }
  static void decode(std::string_view) {}
};

template <class T>
struct ResultCodec<T, std::enable_if_t<std::is_arithmetic_v<T>>> {
  static std::string encode(const T& value) {
    if constexpr (std::is_same_v<T, bool>) {
      return value ? "1" : "0";
    } else {
      char text[64];
      const auto [end, error] = std::to_chars(text, text + sizeof(text), value);
      return std::string(text, end);  // the shortest form that reads back exactly
    }
  }
  static T decode(std::string_view text) {
    if constexpr (std::is_same_v<T, bool>) {
      if (text != "0" && text != "1") throw std::invalid_argument("not a bool");
      return text == "1";
    } else {
      T value{};
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error != std::errc() || end != text.data() + text.size()) {
        throw std::invalid_argument("not a number");
      }
      return value;
    }
  }
};

template <>
struct ResultCodec<std::string> {
  static std::string encode(const std::string& value) { return value; }
  static std::string decode(std::string_view text) { return std::string(text); }
};

// Each string as its length in decimal, ':', then its bytes.
template <>
struct ResultCodec<std::vector<std::string>> {
  static std::string encode(const std::vector<std::string>& values) {
    std::string out;
    for (const std::string& value : values) {
      out += std::to_string(value.size());
      out += ':';
      out += value;
    }
    return out;
  }
  static std::vector<std::string> decode(std::string_view text) {
    std::vector<std::string> values;
    while (!text.empty()) {
      const size_t colon = text.find(':');
      size_t size = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + colon, size);
      if (colon == text.npos || error != std::errc() || end != text.data() + colon ||
          size > text.size() - colon - 1) {
        throw std::invalid_argument("not a list of strings");
      }
      values.emplace_back(text.substr(colon + 1, size));
      text.remove_prefix(colon + 1 + size);
    }
    return values;
  }
};

namespace internal {

template <class T>
concept HasResultCodec =
    std::is_void_v<T> || requires(const T& value, std::string_view text) {
      { ResultCodec<T>::encode(value) } -> std::convertible_to<std::string>;
      { ResultCodec<T>::decode(text) } -> std::convertible_to<T>;
    };

// A result type as a job knows it: its name, and its codec as functions on std::any (null
// when the type has no ResultCodec).
struct ResultCoder {
  const std::type_info& type;
  std::string (*encode)(const std::any& result);
  std::any (*decode)(std::string_view text);
  bool journaled() const { return encode != nullptr; }
};

template <class T>
std::string encode_any(const std::any& result) {
  if constexpr (std::is_void_v<T>) {
    return ResultCodec<void>::encode();
  } else {
    return ResultCodec<T>::encode(std::any_cast<const T&>(result));
  }
}

template <class T>
std::any decode_any(std::string_view text) {
  if constexpr (std::is_void_v<T>) {
    ResultCodec<void>::decode(text);
    return {};
  } else {
    return std::any(T(ResultCodec<T>::decode(text)));
  }
}

template <class T>
ResultCoder make_result_coder() {
  if constexpr (HasResultCodec<T>) {
    return {typeid(T), &encode_any<T>, &decode_any<T>};
  } else {
    return {typeid(T), nullptr, nullptr};
  }
}
template <class T>
inline const ResultCoder kResultCoder = make_result_coder<T>();

// What AbstractJob::result_coder() returns for a job whose result() is a T.
template <class T>
const ResultCoder* result_coder_for() {
  return &kResultCoder<std::remove_cvref_t<T>>;
}

}  // namespace internal
}  // namespace asyncjobs

#endif  // ASYNCJOBS_JOURNAL_H_
