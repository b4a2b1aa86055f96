// Splitting a command's output into lines as it arrives (local processes and SSH commands).
#ifndef ASYNCJOBS_INTERNAL_PROCESS_LINE_SPLITTER_H_
#define ASYNCJOBS_INTERNAL_PROCESS_LINE_SPLITTER_H_

#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace asyncjobs::internal {

// Appends what arrives to `all` and, unless `on_line` is empty, calls it with each complete
// line (without its newline) and, at `finish`, with an unterminated last one.
class LineSplitter {
 public:
  using OnLine = std::function<void(std::string_view)>;
  LineSplitter(std::string& all, OnLine on_line) : all_(all), on_line_(std::move(on_line)) {}

  void append(std::string_view data) {
    size_t from = all_.size();  // no newline before this
    all_.append(data);
    if (!on_line_) return;
    for (size_t end; (end = all_.find('\n', from)) != std::string::npos; from = line_start_) {
      const std::string_view line = std::string_view(all_).substr(line_start_, end - line_start_);
      line_start_ = end + 1;
      on_line_(line);
    }
  }
  void finish() {
    if (!on_line_ || line_start_ == all_.size()) return;
    const std::string_view line = std::string_view(all_).substr(line_start_);
    line_start_ = all_.size();
    on_line_(line);
  }

 private:
  std::string& all_;
  OnLine on_line_;
  size_t line_start_ = 0;  // of the line being received
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_PROCESS_LINE_SPLITTER_H_
