// Graphviz views: DOT text for flat and nested graphs, dot files, and rendering with `dot`.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "asyncjobs/asyncjobs.h"
#include "gtest/gtest.h"

namespace asyncjobs {
namespace {

std::shared_ptr<Job> job(const std::string& label, std::vector<JobPtr> required = {},
                         bool critical = true, bool forever = false) {
  return make_job([] {}, {.label = label,
                          .critical = critical,
                          .forever = forever,
                          .required = std::move(required)});
}

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::string read(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

TEST(DotTest, FlatGraphStylesAndEdges) {
  auto a = job("a");
  auto b = job("b", {a}, /*critical=*/false);
  Scheduler scheduler{a, b, job("loop", {}, true, /*forever=*/true)};
  EXPECT_EQ(scheduler.dot_format(),
            "digraph asyncjobs {\n"
            "  compound=true;\n"
            "  1 [style=\"rounded\",label=\"1: a\",shape=\"box\",color=\"red\",penwidth=\"2\"];\n"
            "  2 [style=\"rounded\",label=\"2: b\",shape=\"box\",penwidth=\"0.5\"];\n"
            "  1 -> 2;\n"
            "  3 [style=\"rounded,dashed\",label=\"3: loop\",shape=\"box\",color=\"red\","
            "penwidth=\"2\"];\n"
            "}\n");
}

// A job class that shows other labels in listings and graphs, and adds a DOT attribute.
class Styled : public Job {
 public:
  Styled() : Job([] {}, {.label = "plain"}) {}
  std::string text_label() const override { return "text view"; }
  std::string graph_label() const override { return "graph view"; }
  std::string dot_style() const override { return "shape=box3d"; }
};

TEST(DotTest, LabelHooksAndStyleAreUsedByListingsAndDot) {
  Scheduler scheduler{std::make_shared<Styled>()};
  EXPECT_EQ(scheduler.dot_format(),
            "digraph asyncjobs {\n"
            "  compound=true;\n"
            "  1 [style=\"rounded\",label=\"1: graph view\",shape=\"box\",color=\"red\","
            "penwidth=\"2\",shape=box3d];\n"
            "}\n");
  std::ostringstream listing;
  scheduler.list(false, listing);
  EXPECT_NE(listing.str().find("<Job `text view`>"), std::string::npos) << listing.str();
}

TEST(DotTest, ExportAsPngAndSvgFiles) {
  Scheduler scheduler{job("a"), job("b")};
  const std::string png = scheduler.export_as_pngfile(temp_path("graph_png"));
  EXPECT_EQ(png, temp_path("graph_png.png"));
  EXPECT_EQ(read(png).substr(1, 3), "PNG");
  const std::string svg = scheduler.export_as_svgfile(temp_path("graph_svg"));
  EXPECT_EQ(svg, temp_path("graph_svg.svg"));
  EXPECT_NE(read(svg).find("<svg"), std::string::npos);
}

// a -> n1{x -> y} -> n2{z} -> b, and a non-critical forever f.
TEST(DotTest, NestedClustersAndSchedulerToSchedulerEdge) {
  auto a = job("a");
  auto x = job("x");
  auto n1 = make_scheduler({x, job("y", {x})}, {.label = "n1", .required = {a}});
  auto n2 = make_scheduler({job("z")}, {.label = "n2", .critical = false, .required = {n1}});
  Scheduler scheduler{a, n1, n2, job("b", {n2}), job("f", {}, false, true)};
  EXPECT_EQ(scheduler.dot_format(),
            "digraph asyncjobs {\n"
            "  compound=true;\n"
            "  1 [style=\"rounded\",label=\"1: a\",shape=\"box\",color=\"red\",penwidth=\"2\"];\n"
            "  subgraph cluster_2 {\n"
            "    graph [style=\"\",label=\"2: n1\",shape=\"box\",color=\"red\",penwidth=\"2\"];\n"
            "    3 [style=\"rounded\",label=\"3: x\",shape=\"box\",color=\"red\",penwidth=\"2\"];\n"
            "    4 [style=\"rounded\",label=\"4: y\",shape=\"box\",color=\"red\",penwidth=\"2\"];\n"
            "    3 -> 4;\n"
            "  }\n"
            "  1 -> 3 [lhead=cluster_2];\n"
            "  subgraph cluster_5 {\n"
            "    graph [style=\"\",label=\"5: n2\",shape=\"box\",penwidth=\"0.5\"];\n"
            "    6 [style=\"rounded\",label=\"6: z\",shape=\"box\",color=\"red\",penwidth=\"2\"];\n"
            "  }\n"
            "  4 -> 6 [lhead=cluster_5 ltail=cluster_2];\n"
            "  7 [style=\"rounded\",label=\"7: b\",shape=\"box\",color=\"red\",penwidth=\"2\"];\n"
            "  6 -> 7 [ltail=cluster_5];\n"
            "  8 [style=\"rounded,dashed\",label=\"8: f\",shape=\"box\",penwidth=\"0.5\"];\n"
            "}\n");
}

TEST(DotTest, EdgesUseTheMiddleEntryAndExitJobs) {
  auto p = job("p"), q = job("q"), r = job("r");
  auto nested = make_scheduler({p, q, r}, {.label = "wide"});
  Scheduler scheduler{nested, job("after", {nested})};
  const std::string dot = scheduler.dot_format();
  EXPECT_NE(dot.find("  3 -> 5 [ltail=cluster_1];\n"), std::string::npos) << dot;
}

TEST(DotTest, EmptyNestedSchedulerGetsAnInvisibleAnchor) {
  auto empty = make_scheduler({.label = "empty"});
  Scheduler scheduler{empty, job("after", {empty})};
  const std::string dot = scheduler.dot_format();
  EXPECT_NE(dot.find("    1 [shape=\"point\",style=\"invis\"];\n"), std::string::npos) << dot;
  EXPECT_NE(dot.find("  1 -> 2 [ltail=cluster_1];\n"), std::string::npos) << dot;
}

TEST(DotTest, LabelsAreEscaped) {
  Scheduler scheduler{job("say \"hi\" \\ bye\nnext")};
  EXPECT_NE(scheduler.dot_format().find(R"(label="1: say \"hi\" \\ bye\nnext")"),
            std::string::npos)
      << scheduler.dot_format();
}

TEST(DotTest, ExportAsDotfileWritesTheDotFormat) {
  Scheduler scheduler{job("a")};
  const std::string path = temp_path("export.dot");
  std::filesystem::remove(path);
  EXPECT_EQ(scheduler.export_as_dotfile(path), absl::StrCat("(Over)wrote ", path));
  EXPECT_EQ(read(path), scheduler.dot_format());
  std::ofstream(path) << "something longer than the graph, to be truncated";
  EXPECT_EQ(scheduler.export_as_dotfile(path), absl::StrCat("(Over)wrote ", path));
  EXPECT_EQ(read(path), scheduler.dot_format());
  EXPECT_THROW(scheduler.export_as_dotfile("/nonexistent-dir/x.dot"), std::runtime_error);
}

bool have_dot() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

TEST(DotTest, ExportAsGraphicWritesAPng) {
  if (!have_dot()) GTEST_SKIP() << "graphviz's `dot` is not installed";
  auto x = job("x");
  auto nested = make_scheduler({x, job("y", {x})}, {.label = "nested"});
  Scheduler scheduler{nested, job("after", {nested})};
  const std::string stem = temp_path("graphic");
  EXPECT_EQ(scheduler.export_as_graphic(stem, "png"), stem + ".png");
  EXPECT_EQ(read(stem + ".png").substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_EQ(read(stem + ".dot"), scheduler.dot_format());
}

TEST(DotTest, ExportAsGraphicReportsAFailingDot) {
  if (!have_dot()) GTEST_SKIP() << "graphviz's `dot` is not installed";
  Scheduler scheduler{job("a")};
  try {
    scheduler.export_as_graphic(temp_path("bad"), "no-such-format");
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("failed (exit code"), std::string::npos)
        << error.what();
  }
}

TEST(DotTest, ExportAsGraphicReportsAMissingDot) {
  Scheduler scheduler{job("a")};
  const std::string saved = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  setenv("PATH", temp_path("no-such-dir").c_str(), 1);
  try {
    scheduler.export_as_graphic(temp_path("missing"), "png");
    ADD_FAILURE() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("not found in PATH"), std::string::npos)
        << error.what();
  }
  setenv("PATH", saved.c_str(), 1);
}

}  // namespace
}  // namespace asyncjobs
