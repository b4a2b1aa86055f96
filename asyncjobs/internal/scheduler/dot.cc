// Scheduler's Graphviz views: dot_format, export_as_dotfile, export_as_graphic (png, svg).
//
// A nested scheduler is a `subgraph cluster_N`. DOT edges join nodes, not clusters, so an
// edge that touches a scheduler goes to (from) the middle one of its entry (exit) jobs, and
// `lhead` (`ltail`) clips it at the cluster's border.
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asyncjobs/internal/base/system_errors.h"
#include "asyncjobs/internal/scheduler/job_ids.h"
#include "asyncjobs/scheduler.h"

extern char** environ;

namespace asyncjobs {
namespace {

using internal::JobIds;
using internal::nested_scheduler;

std::string dot_string(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Rounded boxes for jobs, square clusters for schedulers; dashed when forever; red and
// thick when critical.
std::string attributes(const AbstractJob& job, const JobIds& ids) {
  std::vector<std::string> style;
  if (nested_scheduler(job) == nullptr) style.push_back("rounded");
  if (job.forever()) style.push_back("dashed");
  const std::string extra = job.dot_style();
  return absl::StrCat("style=", dot_string(absl::StrJoin(style, ",")),
                      ",label=", dot_string(absl::StrCat(ids.of(job), ": ", job.graph_label())),
                      ",shape=\"box\",",
                      job.critical() ? "color=\"red\",penwidth=\"2\"" : "penwidth=\"0.5\"",
                      extra.empty() ? "" : ",", extra);
}

// The atomic job that stands for `job` at the head (`entry`) or tail of an edge. An empty
// scheduler has an invisible node of its own id.
absl::string_view anchor(const AbstractJob& job, const JobIds& ids, bool entry) {
  const Scheduler* nested = nested_scheduler(job);
  if (nested == nullptr || nested->size() == 0) return ids.of(job);
  std::vector<JobPtr> ends = entry ? nested->entry_jobs() : nested->exit_jobs();
  if (ends.empty()) ends = nested->exit_jobs(/*discard_forever=*/false);
  return anchor(*ends[ends.size() / 2], ids, entry);
}

std::string cluster_name(const AbstractJob& job, const JobIds& ids) {
  return absl::StrCat("cluster_", ids.of(job));
}

class DotWriter {
 public:
  explicit DotWriter(const JobIds& ids) : ids_(ids) {}

  // Appends the statements of `scheduler`'s jobs, each line indented for `depth`.
  void write(const Scheduler& scheduler, int depth) {
    for (const JobPtr& job : scheduler.topological_order()) {
      const Scheduler* nested = nested_scheduler(*job);
      if (nested != nullptr) {
        cluster(*nested, depth);
      } else {
        line(depth, absl::StrCat(ids_.of(*job), " [", attributes(*job, ids_), "];"));
      }
      edges(*job, depth);
    }
  }
  const std::string& text() const { return out_; }

 private:
  void line(int depth, absl::string_view text) {
    absl::StrAppend(&out_, std::string(2 * depth, ' '), text, "\n");
  }

  void cluster(const Scheduler& nested, int depth) {
    line(depth, absl::StrCat("subgraph ", cluster_name(nested, ids_), " {"));
    line(depth + 1, absl::StrCat("graph [", attributes(nested, ids_), "];"));
    if (nested.size() == 0) {
      line(depth + 1, absl::StrCat(ids_.of(nested), " [shape=\"point\",style=\"invis\"];"));
    }
    write(nested, depth + 1);
    line(depth, "}");
  }

  void edges(const AbstractJob& job, int depth) {
    for (const JobPtr& required : job.required()) {
      if (!ids_.has(*required)) continue;  // outside this graph: nothing to join
      std::vector<std::string> clip;
      if (nested_scheduler(job) != nullptr) {
        clip.push_back(absl::StrCat("lhead=", cluster_name(job, ids_)));
      }
      if (nested_scheduler(*required) != nullptr) {
        clip.push_back(absl::StrCat("ltail=", cluster_name(*required, ids_)));
      }
      const std::string attributes =
          clip.empty() ? "" : absl::StrCat(" [", absl::StrJoin(clip, " "), "]");
      line(depth, absl::StrCat(anchor(*required, ids_, /*entry=*/false), " -> ",
                               anchor(job, ids_, /*entry=*/true), attributes, ";"));
    }
  }

  const JobIds& ids_;
  std::string out_;
};

// Runs `argv` (argv[0] looked up in PATH) and waits; returns its wait status.
int run_command(const std::vector<std::string>& argv) {
  std::vector<char*> args = internal::c_strings(argv);
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
  if (error == ENOENT) {
    throw std::runtime_error(absl::StrCat("asyncjobs: export_as_graphic needs graphviz's `",
                                          argv[0], "` command, not found in PATH"));
  }
  if (error != 0) {
    throw std::runtime_error(absl::StrCat("asyncjobs: cannot run `", argv[0], "`: ",
                                          std::strerror(error)));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

std::string Scheduler::dot_format() const {
  const JobIds ids = JobIds::topological(*this);
  DotWriter writer(ids);
  writer.write(*this, 1);
  return absl::StrCat("digraph asyncjobs {\n  compound=true;\n", writer.text(), "}\n");
}

std::string Scheduler::export_as_dotfile(const std::string& path) const {
  const std::string text = dot_format();
  std::ofstream file(path, std::ios::trunc);
  file << text;
  file.close();
  if (!file) throw std::runtime_error(absl::StrCat("asyncjobs: cannot write ", path));
  return absl::StrCat("(Over)wrote ", path);  // the original's message, word for word
}

std::string Scheduler::export_as_graphic(const std::string& stem,
                                         const std::string& format) const {
  const std::string dot_path = absl::StrCat(stem, ".dot");
  const std::string out_path = absl::StrCat(stem, ".", format);
  export_as_dotfile(dot_path);
  const std::vector<std::string> argv = {"dot", absl::StrCat("-T", format), dot_path, "-o",
                                         out_path};
  const int status = run_command(argv);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(absl::StrCat(
        "asyncjobs: `", absl::StrJoin(argv, " "), "` failed (",
        WIFEXITED(status) ? absl::StrCat("exit code ", WEXITSTATUS(status))
                          : absl::StrCat("signal ", WTERMSIG(status)),
        ")"));
  }
  return out_path;
}

std::string Scheduler::export_as_pngfile(const std::string& stem) const {
  return export_as_graphic(stem, "png");
}

std::string Scheduler::export_as_svgfile(const std::string& stem) const {
  return export_as_graphic(stem, "svg");
}

}  // namespace asyncjobs
