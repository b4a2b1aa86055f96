// The tour of the original asynciojobs README, in C++: parallel jobs, requirements,
// Sequence, a forever job reading a message bus, a timeout, non-critical and critical
// failures, the jobs window and nesting, with list() after the runs as in the original.
// Time stamps come from one `Watch`, reset before each example.
//
//   ./bazelw run //examples:readme
#include <iostream>
#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"
#include "asyncjobs/asyncjobs.h"

namespace aj = asyncjobs;

namespace {

aj::Watch watch;

void title(const std::string& text) {
  std::cout << "\n=== " << text << "\n";
  watch.reset();
}

// Prints when it enters and leaves, sleeps in the middle; returns the milliseconds.
double in_out(double seconds) {
  watch.print_elapsed(absl::StrCat("-> in_out(", seconds, ")\n"));
  aj::sleep_for(absl::Seconds(seconds));
  watch.print_elapsed(absl::StrCat("<- in_out(", seconds, ")\n"));
  return 1000 * seconds;
}

// A job body running in_out(seconds).
auto in_out_job(double seconds) {
  return [seconds] { return in_out(seconds); };
}

void example_a() {
  title("Example A: running in parallel");
  auto a1 = aj::make_job(in_out_job(0.1));
  auto a2 = aj::make_job(in_out_job(0.2));
  auto a3 = aj::make_job(in_out_job(0.25));
  aj::Scheduler sa{a1, a2, a3};
  std::cout << sa.repr() << "\n";
  bool ok = sa.run();
  std::cout << "run() -> " << ok << "\n";
  std::cout << "a1 result: " << a1->result<double>() << "\n";
}

void example_b() {
  title("Example B: requirements");
  auto b1 = aj::make_job(in_out_job(0.1), {.label = "b1"});
  auto b2 = aj::make_job(in_out_job(0.2), {.label = "b2"});
  auto b3 = aj::make_job(in_out_job(0.25));
  b2->require(b1);
  aj::Scheduler sb{b1, b2, b3};
  bool ok = sb.run();
  std::cout << "run() -> " << ok << "\n";
  sb.list();
}

void example_b_prime() {
  title("Example B': the same with a Sequence");
  aj::Scheduler sb2{aj::Sequence{aj::make_job(in_out_job(0.1), {.label = "bp1"}),
                                 aj::make_job(in_out_job(0.2), {.label = "bp2"})},
                    aj::make_job(in_out_job(0.25))};
  bool ok = sb2.run();
  std::cout << "run() -> " << ok << "\n";
}

void example_c() {
  title("Example C: a forever job reading a message bus");
  aj::Queue<std::string> bus;
  auto in_out_bus = [&bus](double seconds) {
    return [&bus, seconds] {
      bus.put(absl::StrCat(watch.elapsed(), " -> in_out(", seconds, ")"));
      aj::sleep_for(absl::Seconds(seconds));
      bus.put(absl::StrCat(watch.elapsed(), " <- in_out(", seconds, ")"));
      return 10 * seconds;
    };
  };
  auto monitor = [&bus] {
    for (;;) {
      std::string message = bus.get();  // suspends while the bus is empty
      std::cout << "BUS: " << message << "\n";
    }
  };
  auto c1 = aj::make_job(in_out_bus(0.2), {.label = "c1"});
  auto c2 = aj::make_job(in_out_bus(0.4), {.label = "c2"});
  auto c3 = aj::make_job(in_out_bus(0.3), {.label = "c3", .required = {c1}});
  auto c4 = aj::make_job(monitor, {.label = "monitor", .forever = true});
  aj::Scheduler sc{c1, c2, c3, c4};
  bool ok = sc.run();
  std::cout << "run() -> " << ok << "\n";
  std::cout << "monitor: done " << c4->is_done() << ", cancelled " << c4->is_cancelled() << "\n";
  sc.list();
}

void example_d() {
  title("Example D: a global timeout");
  auto forever = aj::make_job(
      [] {
        for (int i = 0;; ++i) {
          std::cout << watch.elapsed() << ": forever " << i << "\n";
          aj::sleep_for(absl::Milliseconds(100));
        }
      },
      {.forever = true});
  aj::Scheduler sd{{forever},
                   {.label = "sd", .critical = false, .timeout = absl::Seconds(0.25),
                    .watch = &watch}};
  bool ok = sd.run();
  std::cout << "run() -> " << ok << "  why(): " << sd.why() << "\n";
}

void boom(double seconds) {
  aj::sleep_for(absl::Seconds(seconds));
  throw std::runtime_error(absl::StrCat("boom after ", seconds, "s"));
}

void example_e() {
  title("Example E: a non-critical job raises; its successors still run");
  auto e1 = aj::make_job(in_out_job(0.2), {.label = "begin"});
  auto e2 = aj::make_job([] { boom(0.2); }, {.label = "boom", .critical = false});
  auto e3 = aj::make_job(in_out_job(0.3), {.label = "end"});
  aj::Scheduler se{{aj::Sequence{e1, e2, e3}}, {.critical = false}};
  bool ok = se.run();
  std::cout << "run() -> " << ok << "  why(): " << se.why() << "\n";
  try {
    e2->result();
  } catch (const std::exception& e) {
    std::cout << "boom raised: " << e.what() << "; end returned " << e3->result<double>()
              << "\n";
  }
  se.list();
}

void example_f() {
  title("Example F: a critical job raises; the scheduler bails out");
  auto f1 = aj::make_job(in_out_job(0.2), {.label = "begin"});
  auto f2 = aj::make_job([] { boom(0.2); }, {.label = "boom", .critical = true});
  auto f3 = aj::make_job(in_out_job(0.3), {.label = "end"});
  aj::Scheduler sf{{aj::Sequence{f1, f2, f3}},
                   {.label = "sf", .critical = false, .watch = &watch}};
  bool ok = sf.run();
  std::cout << "run() -> " << ok << "  why(): " << sf.why() << "\n";
  std::cout << "end is idle: " << f3->is_idle() << "\n";
  sf.list();
}

// A job body that prints a message, then sleeps.
auto aprint(std::string message, double delay = 0.5) {
  return [message, delay] {
    watch.print_elapsed(message + "\n");
    aj::sleep_for(absl::Seconds(delay));
  };
}

void example_window() {
  title("The jobs window: 8 jobs of 0.5s, 4 at a time");
  aj::Scheduler s{{.jobs_window = 4}};
  for (int i = 1; i <= 8; ++i) s.add(aj::make_job(aprint(absl::StrCat(i, "-th job"))));
  s.run();
  std::cout << "total duration = " << watch.elapsed() << "s\n";
}

void example_nesting() {
  title("Nesting: a scheduler is a job");
  auto sub = aj::make_scheduler(aj::SchedulerOptions{.label = "critical nested"});
  auto subj1 = aj::make_job(aprint("subj1", 0.1), {.label = "subj1"});
  auto subj2 = aj::make_job(aprint("subj2", 0.1), {.label = "subj2", .required = {subj1}});
  auto subj3 = aj::make_job(aprint("subj3", 0.1), {.label = "subj3", .required = {subj1}});
  auto subj4 =
      aj::make_job(aprint("subj4", 0.1), {.label = "subj4", .required = {subj2, subj3}});
  sub->update({subj1, subj2, subj3, subj4});
  aj::Scheduler main_sched{aj::Sequence{
      aj::make_job(aprint("main-start", 0.1), {.label = "main-start"}),
      sub,
      aj::make_job(aprint("main-end", 0.1), {.label = "main-end"}),
  }};
  main_sched.list();
  bool ok = main_sched.run();
  std::cout << "run() -> " << ok << "\n";
}

void example_print_job() {
  title("PrintJob");
  auto hello = aj::make_print_job({"hello", "world"}, {.sleep = absl::Milliseconds(100)});
  auto done = aj::make_print_job({"all done"}, {.banner = "=====>"}, {.required = {hello}});
  aj::Scheduler scheduler({hello, done}, {.watch = &watch});
  scheduler.run();
}

}  // namespace

int main() {
  std::cout << std::boolalpha;
  example_a();
  example_b();
  example_b_prime();
  example_c();
  example_d();
  example_e();
  example_f();
  example_window();
  example_nesting();
  example_print_job();
}
