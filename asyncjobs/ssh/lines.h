// Splitting a command's output into lines as it arrives.
#ifndef ASYNCJOBS_SSH_LINES_H_
#define ASYNCJOBS_SSH_LINES_H_

#include <functional>
#include <string>
#include <string_view>

namespace asyncjobs::ssh::internal {

// Appends what arrives to `all` and calls `on_line` with each complete line (without its
// newline) and, at `finish`, with an unterminated last one.
class LineSplitter {
 public:
  using OnLine = std::function<void(std::string_view)>;
  LineSplitter(std::string& all, OnLine on_line) : all_(all), on_line_(std::move(on_line)) {}

  void append(std::string_view data) {
    all_.append(data);
    for (size_t end; (end = all_.find('\n', scanned_)) != std::string::npos;) {
      const size_t start = line_start_;
      line_start_ = scanned_ = end + 1;
      on_line_(std::string_view(all_).substr(start, end - start));
    }
    scanned_ = all_.size();
  }
  void finish() {
    if (line_start_ == all_.size()) return;
    const size_t start = line_start_;
    line_start_ = all_.size();
    on_line_(std::string_view(all_).substr(start));
  }

 private:
  std::string& all_;
  OnLine on_line_;
  size_t line_start_ = 0;  // of the line being received
  size_t scanned_ = 0;     // no newline before this
};

}  // namespace asyncjobs::ssh::internal

#endif  // ASYNCJOBS_SSH_LINES_H_
