// internal::Fiber alone, without a reactor: switching and per-fiber exception state.

#include "asyncjobs/internal/fiber/fiber.h"

#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace asyncjobs::internal {
namespace {

// A fiber running a std::function, for brevity.
class FnFiber {
 public:
  explicit FnFiber(std::function<void()> body)
      : body_(std::move(body)), fiber_(&FnFiber::entry, this) {}
  Fiber& fiber() { return fiber_; }

 private:
  static void entry(void* self) { static_cast<FnFiber*>(self)->body_(); }
  std::function<void()> body_;
  Fiber fiber_;
};

std::string what_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  }
}

TEST(FiberTest, ResumeAndSuspendPingPong) {
  std::string trace;
  FnFiber f([&] {
    for (int i = 0; i < 3; ++i) {
      trace += 'f';
      Fiber::current()->suspend();
    }
    trace += 'F';
  });
  EXPECT_FALSE(f.fiber().started());
  while (!f.fiber().finished()) {
    f.fiber().resume();
    trace += 'm';
  }
  EXPECT_EQ(trace, "fmfmfmFm");
  EXPECT_TRUE(f.fiber().started());
  EXPECT_TRUE(f.fiber().finished());
}

TEST(FiberTest, CurrentIsTheRunningFiber) {
  Fiber* seen = nullptr;
  FnFiber f([&] { seen = Fiber::current(); });
  EXPECT_EQ(Fiber::current(), nullptr);
  f.fiber().resume();
  EXPECT_EQ(seen, &f.fiber());
  EXPECT_EQ(Fiber::current(), nullptr);
}

TEST(FiberTest, TwoFibersInterleave) {
  std::string trace;
  auto body = [&](char c) {
    return [&trace, c] {
      for (int i = 0; i < 2; ++i) {
        trace += c;
        Fiber::current()->suspend();
      }
    };
  };
  FnFiber a(body('a')), b(body('b'));
  while (!a.fiber().finished() || !b.fiber().finished()) {
    if (!a.fiber().finished()) a.fiber().resume();
    if (!b.fiber().finished()) b.fiber().resume();
  }
  EXPECT_EQ(trace, "abab");
}

TEST(FiberTest, UnstartedFiberCanBeDestroyed) {
  bool ran = false;
  { FnFiber f([&] { ran = true; }); }
  EXPECT_FALSE(ran);
}

TEST(FiberTest, LocalsSurviveSuspension) {
  int result = 0;
  FnFiber f([&] {
    char buffer[32 * 1024];  // a sizeable frame: the stack is really the fiber's own
    std::memset(buffer, 7, sizeof buffer);
    Fiber::current()->suspend();
    int sum = 0;
    for (char c : buffer) sum += c;
    result = sum;
  });
  f.fiber().resume();
  char other[32 * 1024];
  std::memset(other, 1, sizeof other);  // the resumer's stack is unrelated
  f.fiber().resume();
  EXPECT_EQ(result, 7 * 32 * 1024);
  EXPECT_EQ(other[100], 1);
}

TEST(FiberTest, ManySequentialFibersReuseStacks) {
  int count = 0;
  for (int i = 0; i < 5000; ++i) {
    FnFiber f([&] { ++count; });
    f.fiber().resume();
    ASSERT_TRUE(f.fiber().finished());
  }
  EXPECT_EQ(count, 5000);
}

TEST(FiberTest, ManyLiveFibers) {
  constexpr int kFibers = 2000;
  std::vector<std::unique_ptr<FnFiber>> fibers;
  std::vector<int> values(kFibers, 0);
  for (int i = 0; i < kFibers; ++i) {
    fibers.push_back(std::make_unique<FnFiber>([&values, i] {
      int local = i;
      Fiber::current()->suspend();
      values[i] = local * 2;
    }));
    fibers.back()->fiber().resume();
  }
  for (auto& f : fibers) f->fiber().resume();
  for (int i = 0; i < kFibers; ++i) ASSERT_EQ(values[i], 2 * i);
}

TEST(FiberTest, ExceptionThrownAndCaughtInsideFiber) {
  std::string caught;
  FnFiber f([&] {
    try {
      Fiber::current()->suspend();
      throw std::runtime_error("inside");
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
  });
  f.fiber().resume();
  f.fiber().resume();
  EXPECT_EQ(caught, "inside");
}

// docs/fibers.md, trap 3: a fiber suspended inside a catch block keeps its own "current
// exception"; the resumer sees none, and its own handling does not leak into the fiber.
TEST(FiberTest, ExceptionStateIsPerFiber) {
  std::string in_catch_after_resume, rethrown;
  FnFiber f([&] {
    try {
      throw std::runtime_error("fiber");
    } catch (...) {
      Fiber::current()->suspend();
      in_catch_after_resume = what_of(std::current_exception());
      try {
        throw;
      } catch (const std::exception& e) {
        rethrown = e.what();
      }
    }
  });
  f.fiber().resume();
  EXPECT_EQ(std::current_exception(), nullptr);
  try {
    throw std::logic_error("main");
  } catch (...) {
    EXPECT_EQ(what_of(std::current_exception()), "main");
    f.fiber().resume();  // the fiber finishes its catch block here
    EXPECT_EQ(what_of(std::current_exception()), "main");
  }
  EXPECT_EQ(std::current_exception(), nullptr);
  EXPECT_EQ(in_catch_after_resume, "fiber");
  EXPECT_EQ(rethrown, "fiber");
}

TEST(FiberTest, TwoFibersSuspendedInCatchBlocksKeepTheirOwnException) {
  std::string trace;
  auto body = [&](std::string name) {
    return [&trace, name] {
      try {
        throw std::runtime_error(name);
      } catch (...) {
        Fiber::current()->suspend();
        try {
          throw;
        } catch (const std::exception& e) {
          trace += e.what();
        }
      }
    };
  };
  FnFiber a(body("A")), b(body("B"));
  a.fiber().resume();
  b.fiber().resume();
  a.fiber().resume();
  b.fiber().resume();
  EXPECT_EQ(trace, "AB");
}

struct SuspendsInDestructor {
  int* uncaught_seen;
  ~SuspendsInDestructor() {
    Fiber::current()->suspend();
    *uncaught_seen = std::uncaught_exceptions();
  }
};

TEST(FiberTest, UncaughtExceptionsIsPerFiber) {
  int uncaught_in_fiber = -1;
  bool caught = false;
  FnFiber f([&] {
    try {
      SuspendsInDestructor guard{&uncaught_in_fiber};
      throw std::runtime_error("unwinding");
    } catch (const std::runtime_error&) {
      caught = true;
    }
  });
  f.fiber().resume();  // suspended in the destructor, during unwinding
  EXPECT_EQ(std::uncaught_exceptions(), 0);
  f.fiber().resume();
  EXPECT_EQ(uncaught_in_fiber, 1);
  EXPECT_TRUE(caught);
  EXPECT_EQ(std::uncaught_exceptions(), 0);
}

}  // namespace
}  // namespace asyncjobs::internal
