// What a mistaken job gets from the compiler: asyncjobs' own message, once (the
// static_asserts of job.h), not a cascade of template errors. Each case compiles a snippet
// with the system's g++ against the headers in this test's runfiles.
#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace {

struct Compiled {
  bool ok = false;
  std::string output;  // what the compiler printed
  int errors = 0;      // its "error:" lines
};

Compiled compile(const std::string& code) {
  const std::string dir = std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp";
  const std::string source = dir + "/snippet.cc";
  std::ofstream(source) << "#include <memory>\n#include \"asyncjobs/asyncjobs.h\"\n"
                        << "namespace aj = asyncjobs;\n" << code << "\n";
  Compiled result;
  FILE* pipe = popen(("g++ -std=c++20 -fsyntax-only -I. " + source + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char line[4096];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    result.output += line;
    result.errors += std::string(line).find("error:") != std::string::npos;
  }
  result.ok = pclose(pipe) == 0;
  return result;
}

void expect_one_error(const std::string& code, const std::string& message) {
  const Compiled compiled = compile(code);
  EXPECT_FALSE(compiled.ok) << code;
  EXPECT_NE(compiled.output.find("asyncjobs: " + message), std::string::npos) << compiled.output;
  EXPECT_EQ(compiled.errors, 1) << compiled.output;
}

// The harness itself: a valid job compiles with the same command.
TEST(CompileErrorsTest, AValidJobCompiles) {
  const Compiled compiled = compile("auto job = aj::make_job([] { return 1; });");
  EXPECT_TRUE(compiled.ok) << compiled.output;
}

TEST(CompileErrorsTest, ABodyTakingAnArgument) {
  expect_one_error("auto job = aj::make_job([](int) {});", "a job body takes no argument");
}

TEST(CompileErrorsTest, AResultThatCannotBeCopied) {
  expect_one_error("auto job = aj::make_job([] { return std::unique_ptr<int>(); });",
                   "a job's result must be copyable");
}

TEST(CompileErrorsTest, AShutdownTakingAnArgument) {
  expect_one_error("auto job = aj::make_job([] {}, [](int) {});",
                   "a job's shutdown callable takes no argument");
}

TEST(CompileErrorsTest, RequiringSomethingThatIsNotAJob) {
  expect_one_error("void f(aj::JobPtr job) { job->require(std::make_shared<int>()); }",
                   "require() takes jobs");
  expect_one_error("void f(aj::JobPtr job) { job->unrequire(std::make_shared<int>()); }",
                   "unrequire() takes jobs");
}

}  // namespace
