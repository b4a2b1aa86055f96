// Visualize: a scheduler as a Graphviz graph. Critical jobs have a red, thick border,
// non-critical ones a thin one; forever jobs are dashed; a nested scheduler is a cluster.
// Writes STEM.dot, and STEM.png when graphviz's `dot` is installed.
//
//   ./bazelw run //examples:visualize -- /tmp/workflow     (default stem: visualize)
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

namespace {

std::shared_ptr<aj::Job> step(const std::string& label, std::vector<aj::JobPtr> required = {},
                              bool critical = true, bool forever = false) {
  return aj::make_job([] {}, {.label = label,
                              .critical = critical,
                              .forever = forever,
                              .required = std::move(required)});
}

// Under `bazel run`, a relative stem means the caller's directory, not the runfiles.
std::string output_stem(int argc, char** argv) {
  std::string stem = argc > 1 ? argv[1] : "visualize";
  const char* caller_dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (caller_dir != nullptr && stem.front() != '/') stem = std::string(caller_dir) + "/" + stem;
  return stem;
}

}  // namespace

int main(int argc, char** argv) {
  auto fetch = step("fetch sources");
  auto configure = step("configure");
  auto build = step("build", {configure});
  auto test = step("run tests", {configure});
  auto nested = aj::make_scheduler({configure, build, test},
                                   {.label = "build & test", .required = {fetch}});
  auto docs = step("render docs", {fetch}, /*critical=*/false);
  auto monitor = step("monitor", {}, /*critical=*/false, /*forever=*/true);
  aj::Scheduler workflow{fetch, nested, docs, step("publish", {nested, docs}), monitor};

  workflow.list();
  const std::string stem = output_stem(argc, argv);
  std::cout << workflow.export_as_dotfile(stem + ".dot") << "\n";
  try {
    std::cout << "Wrote " << workflow.export_as_graphic(stem, "png") << "\n";
  } catch (const std::runtime_error& error) {
    std::cout << "No image: " << error.what() << "\n";
  }
}
