// The ready-made output sinks: prefixed lines on streams, or one file per host.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asyncjobs/ssh.h"
#include "asyncjobs/ssh_output.h"

namespace asyncjobs::ssh {
namespace {

constexpr int kDefaultPort = 22;

// Debian's Abseil has its own string_view, which StrCat takes but std::string_view is not.
absl::string_view text(std::string_view line) { return {line.data(), line.size()}; }

// The whole line in one write on the stream: nothing can come between its parts.
void write_line(std::ostream& stream, std::string text) {
  text += '\n';
  stream.write(text.data(), static_cast<std::streamsize>(text.size()));
}

// A sink writing `format(node, line)` as one line on `stream`.
template <typename Format>
LineSink stream_sink(std::ostream& stream, Format format) {
  return [&stream, format](const Node& node, std::string_view line) {
    write_line(stream, format(node, line));
  };
}

template <typename Format>
OutputSinks stream_sinks(std::ostream& out, std::ostream& err, Format format) {
  return {stream_sink(out, format), stream_sink(err, format)};
}

// Files opened on first use, kept open until the last sink sharing them is destroyed.
class HostFiles {
 public:
  HostFiles(std::filesystem::path dir, std::string suffix)
      : dir_(std::move(dir)), suffix_(std::move(suffix)) {}
  ~HostFiles() {
    for (const auto& [label, fd] : fds_) ::close(fd);
  }
  HostFiles(const HostFiles&) = delete;
  HostFiles& operator=(const HostFiles&) = delete;

  void write(const Node& node, std::string_view line) {
    std::string text(line);
    text += '\n';
    write_all(fd_for(host_label(node)), text);
  }

 private:
  int fd_for(const std::string& label) {
    const auto found = fds_.find(label);
    if (found != fds_.end()) return found->second;
    const std::string path = (dir_ / (label + suffix_)).string();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
    fds_.emplace(label, fd);
    return fd;
  }

  // A regular file takes a line whole; the loop only covers a full disk or a signal.
  void write_all(int fd, std::string_view text) {
    while (!text.empty()) {
      const ssize_t written = ::write(fd, text.data(), text.size());
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) {
        throw std::runtime_error(absl::StrCat("cannot write under ", dir_.string(), ": ",
                                              std::strerror(errno)));
      }
      text.remove_prefix(static_cast<size_t>(written));
    }
  }

  std::filesystem::path dir_;
  std::string suffix_;
  std::map<std::string, int> fds_;  // by host label
};

LineSink file_sink(std::shared_ptr<HostFiles> files) {
  return [files = std::move(files)](const Node& node, std::string_view line) {
    files->write(node, line);
  };
}

}  // namespace

std::string host_label(const Node& node) {
  const NodeOptions& options = node.options();
  if (options.port == kDefaultPort) return options.host;
  return absl::StrCat(options.host, ":", options.port);
}

OutputSinks host_prefix(std::ostream& out, std::ostream& err) {
  return stream_sinks(out, err, [](const Node& node, std::string_view line) {
    return absl::StrCat(host_label(node), ":", text(line));
  });
}

OutputSinks time_and_host_prefix(std::ostream& out, std::ostream& err) {
  return stream_sinks(out, err, [](const Node& node, std::string_view line) {
    const std::string time = absl::FormatTime("%H:%M:%S", absl::Now(), absl::LocalTimeZone());
    return absl::StrCat(time, "-", host_label(node), ":", text(line));
  });
}

OutputSinks raw_lines(std::ostream& out, std::ostream& err) {
  return stream_sinks(out, err, [](const Node&, std::string_view line) { return std::string(line); });
}

OutputSinks host_prefix() { return host_prefix(std::cout, std::cerr); }
OutputSinks time_and_host_prefix() { return time_and_host_prefix(std::cout, std::cerr); }
OutputSinks raw_lines() { return raw_lines(std::cout, std::cerr); }

OutputSinks files_per_host(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw std::runtime_error(absl::StrCat("cannot create ", dir, ": ", error.message()));
  return {file_sink(std::make_shared<HostFiles>(dir, "")),
          file_sink(std::make_shared<HostFiles>(dir, ".err"))};
}

}  // namespace asyncjobs::ssh
