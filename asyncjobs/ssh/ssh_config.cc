// The OpenSSH client config subset: parsing for one host, then resolving NodeOptions.
#include "asyncjobs/ssh/ssh_config.h"

#include <fnmatch.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace asyncjobs::ssh::internal {
namespace {

// Jumps through jumps deeper than this are taken for a loop in the file.
constexpr int kMaxJumpDepth = 8;

std::string home_directory() {
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return home;
  const passwd* entry = ::getpwuid(::geteuid());
  return entry == nullptr ? "/" : entry->pw_dir;
}

// A line's words: whitespace-separated, `"` quoting a word with spaces; the keyword may be
// followed by `=` (`Port=22`, `Port = 22`).
std::vector<std::string> split_words(absl::string_view line) {
  const size_t keyword_end = std::min(line.find_first_of(" \t="), line.size());
  std::vector<std::string> words{std::string(line.substr(0, keyword_end))};
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(line.substr(keyword_end));
  absl::ConsumePrefix(&rest, "=");
  std::string word;
  bool quoted = false, in_word = false;
  for (const char c : rest) {
    if (c == '"') {
      quoted = !quoted;
      in_word = true;
    } else if (!quoted && absl::ascii_isspace(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

class Parser {
 public:
  Parser(const std::string& host, const std::string& source) : host_(host), source_(source) {}

  void line(absl::string_view text, int number) {
    const absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(text);
    if (trimmed.empty() || trimmed.front() == '#') return;
    std::vector<std::string> words = split_words(trimmed);
    const std::string keyword = absl::AsciiStrToLower(words.front());
    words.erase(words.begin());
    number_ = number;
    if (keyword == "host") {
      active_ = host_matches(words, host_);
    } else if (keyword == "match") {
      active_ = false;  // its criteria are not evaluated: its block is skipped
    } else if (active_) {
      apply(keyword, words);
    }
  }

  HostConfig take() { return std::move(config_); }

 private:
  void apply(const std::string& keyword, const std::vector<std::string>& words) {
    if (keyword == "hostname") {
      set(config_.hostname,
          absl::StrReplaceAll(value(keyword, words), {{"%h", host_}, {"%%", "%"}}));
    } else if (keyword == "user") {
      set(config_.user, value(keyword, words));
    } else if (keyword == "port") {
      set(config_.port, port(value(keyword, words)));
    } else if (keyword == "identityfile") {
      config_.identity_files.push_back(expand_home(absl::StrReplaceAll(
          value(keyword, words), {{"%h", host_}, {"%d", home_directory()}, {"%%", "%"}})));
    } else if (keyword == "proxyjump") {
      set(config_.proxy_jump, value(keyword, words));
    } else if (keyword == "connecttimeout") {
      set(config_.connect_timeout, duration(value(keyword, words)));
    }
  }

  template <class T, class U>
  static void set(std::optional<T>& field, U value) {
    if (!field) field = std::move(value);  // the first value obtained wins
  }

  const std::string& value(const std::string& keyword,
                           const std::vector<std::string>& words) const {
    if (words.empty()) fail(absl::StrCat(keyword, " needs a value"));
    return words.front();
  }

  int port(const std::string& text) const {
    int port = 0;
    if (!absl::SimpleAtoi(text, &port) || port < 1 || port > 65535) fail("bad port " + text);
    return port;
  }

  // OpenSSH's time format: seconds, or with units ("1m30s").
  absl::Duration duration(const std::string& text) const {
    int seconds = 0;
    if (absl::SimpleAtoi(text, &seconds) && seconds > 0) return absl::Seconds(seconds);
    absl::Duration parsed;
    if (!absl::ParseDuration(text, &parsed) || parsed <= absl::ZeroDuration()) {
      fail("bad ConnectTimeout " + text);
    }
    return parsed;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument(absl::StrCat(source_, ":", number_, ": ", what));
  }

  std::string host_;
  const std::string& source_;
  bool active_ = true;  // lines before the first Host apply to every host
  int number_ = 0;
  HostConfig config_;
};

bool glob_matches(const std::string& pattern, const std::string& host) {
  return ::fnmatch(absl::AsciiStrToLower(pattern).c_str(), host.c_str(), 0) == 0;
}

std::string read_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("asyncjobs: cannot read the ssh config " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Identity files that exist: OpenSSH only warns about the others.
std::vector<std::string> existing(const std::vector<std::string>& paths) {
  std::vector<std::string> found;
  for (const std::string& path : paths) {
    if (std::filesystem::exists(path)) found.push_back(path);
  }
  return found;
}

NodeOptions resolve(NodeOptions options, int depth);

// `[user@]host[:port]`, with what the node's user chose that a jump host shares.
NodeOptions jump_options(absl::string_view spec, const NodeOptions& node) {
  NodeOptions jump;
  if (const size_t at = spec.rfind('@'); at != absl::string_view::npos) {
    jump.user = std::string(spec.substr(0, at));
    spec.remove_prefix(at + 1);
  }
  if (const size_t colon = spec.rfind(':'); colon != absl::string_view::npos) {
    if (!absl::SimpleAtoi(spec.substr(colon + 1), &jump.port)) {
      throw std::invalid_argument(absl::StrCat("asyncjobs: bad ProxyJump port in ", spec));
    }
    spec = spec.substr(0, colon);
  }
  jump.host = std::string(spec);
  jump.known_hosts = node.known_hosts;
  jump.host_key_check = node.host_key_check;
  jump.connect_timeout = node.connect_timeout;
  jump.passphrase = node.passphrase;
  jump.ssh_config = node.ssh_config;
  return jump;
}

// The gateway for a ProxyJump value: the last jump, reached through the ones before it.
std::shared_ptr<Node> jump_gateway(const std::string& proxy_jump, const NodeOptions& node,
                                   int depth) {
  std::shared_ptr<Node> gateway;
  for (const absl::string_view spec : absl::StrSplit(proxy_jump, ',', absl::SkipEmpty())) {
    NodeOptions jump = jump_options(spec, node);
    jump.gateway = std::move(gateway);
    jump = resolve(std::move(jump), depth + 1);
    if (jump.identities.empty()) jump.identities = node.identities;
    jump.ssh_config.clear();  // resolved: the Node must not read it again
    gateway = make_node(std::move(jump));
  }
  return gateway;
}

NodeOptions resolve(NodeOptions options, int depth) {
  if (options.ssh_config.empty()) return options;
  if (depth > kMaxJumpDepth) {
    throw std::invalid_argument("asyncjobs: ProxyJump chain too deep (a loop?) at " + options.host);
  }
  const std::string path = expand_home(options.ssh_config);
  const HostConfig config = parse_ssh_config(read_config(path), options.host, path);
  const NodeOptions defaults;
  if (options.user.empty() && config.user) options.user = *config.user;
  if (options.port == defaults.port && config.port) options.port = *config.port;
  if (options.identities.empty()) options.identities = existing(config.identity_files);
  if (options.connect_timeout == defaults.connect_timeout && config.connect_timeout) {
    options.connect_timeout = *config.connect_timeout;
  }
  if (options.gateway == nullptr && config.proxy_jump && *config.proxy_jump != "none") {
    options.gateway = jump_gateway(*config.proxy_jump, options, depth);
  }
  if (config.hostname) options.host = *config.hostname;
  return options;
}

}  // namespace

bool host_matches(const std::vector<std::string>& patterns, const std::string& host) {
  const std::string lower = absl::AsciiStrToLower(host);
  bool matched = false;
  for (const std::string& pattern : patterns) {
    if (!pattern.empty() && pattern.front() == '!') {
      if (glob_matches(pattern.substr(1), lower)) return false;  // a negation always wins
    } else {
      matched = matched || glob_matches(pattern, lower);
    }
  }
  return matched;
}

HostConfig parse_ssh_config(const std::string& text, const std::string& host,
                            const std::string& source) {
  Parser parser(host, source);
  int number = 0;
  for (const absl::string_view line : absl::StrSplit(text, '\n')) parser.line(line, ++number);
  return parser.take();
}

NodeOptions resolve_options(NodeOptions options) { return resolve(std::move(options), 0); }

std::string expand_home(const std::string& path) {
  if (path == "~") return home_directory();
  if (path.rfind("~/", 0) == 0) return home_directory() + path.substr(1);
  return path;
}

}  // namespace asyncjobs::ssh::internal
