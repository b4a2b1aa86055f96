#ifndef ASYNCJOBS_SSH_OUTPUT_H_
#define ASYNCJOBS_SSH_OUTPUT_H_

// Ready-made output sinks for `RunOptions::on_stdout` / `on_stderr`, after apssh's formatters:
// lines prefixed by their host (apssh's default), by the time and host, raw, or one file per
// host in a directory.
//
//   const ssh::OutputSinks sinks = ssh::time_and_host_prefix();
//   ssh::RunOptions options{.on_stdout = sinks.on_stdout, .on_stderr = sinks.on_stderr};
//
// Each line is written with one call on its stream (one write(2) for a file), so lines of
// different hosts never interleave mid-line. Thread: one reactor (the sinks of a set may be
// used by every job of that reactor; they hold no lock). The streams must outlive the sinks;
// without streams, stdout lines go to std::cout and stderr lines to std::cerr.

#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace asyncjobs::ssh {

class Node;

// A callable for `RunOptions::on_stdout` / `on_stderr`.
using LineSink = std::function<void(const Node& node, std::string_view line)>;

// One sink for each of a command's two streams.
struct OutputSinks {
  LineSink on_stdout, on_stderr;
};

// How the sinks name a host: its `host` option, followed by ":port" when the port is not 22
// (so that two ports of one address stay apart): "web1", "127.0.0.1:2222".
std::string host_label(const Node& node);

// "host:line", stdout lines on `out` and stderr lines on `err` (apssh's ColonFormatter).
OutputSinks host_prefix();
OutputSinks host_prefix(std::ostream& out, std::ostream& err);

// "HH:MM:SS-host:line", the local time at which the line arrived (apssh's TimeColonFormatter,
// with colons in the time).
OutputSinks time_and_host_prefix();
OutputSinks time_and_host_prefix(std::ostream& out, std::ostream& err);

// The line alone (apssh's RawFormatter).
OutputSinks raw_lines();
OutputSinks raw_lines(std::ostream& out, std::ostream& err);

// One file per host under `dir` (created with its parents if missing): stdout lines in
// `dir/<host_label>`, stderr lines in `dir/<host_label>.err` (apssh's SubdirFormatter). A file
// is created (truncated if it exists) on its first line, so a host that printed nothing has
// none; later lines, from any command of any job of that host, are appended. Every sink copied
// from the result shares the open files; the last copy's destruction closes them. Throws
// std::runtime_error naming the path when the directory or a file cannot be made (from the
// sink: the command is then killed and the error propagates).
OutputSinks files_per_host(const std::string& dir);

}  // namespace asyncjobs::ssh

#endif  // ASYNCJOBS_SSH_OUTPUT_H_
