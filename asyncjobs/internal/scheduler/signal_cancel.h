#ifndef ASYNCJOBS_INTERNAL_SCHEDULER_SIGNAL_CANCEL_H_
#define ASYNCJOBS_INTERNAL_SCHEDULER_SIGNAL_CANCEL_H_

// Signal handlers that call back while a scope lives (SchedulerOptions::cancel_on_signals,
// drain_on_signals; the progress view's SIGWINCH).

#include <signal.h>

#include <cstdint>
#include <vector>

namespace asyncjobs::internal {

// While alive, each of `signals` calls `callback(argument)` from the signal handler, so the
// callback must be async-signal-safe. The previous handlers are restored on destruction.
// Several scopes may live at once, on any threads: a signal calls every one that named it.
struct SignalRegistration {
  void (*callback)(void* argument);
  void* argument;
  uint64_t signals;  // bit n - 1 for signal n (Linux numbers them 1 to 64)
};

class SignalCallback {
 public:
  using Callback = void (*)(void* argument);
  SignalCallback(const std::vector<int>& signals, Callback callback, void* argument);
  ~SignalCallback();
  SignalCallback(const SignalCallback&) = delete;
  SignalCallback& operator=(const SignalCallback&) = delete;

 private:
  void release();  // restores the handlers and leaves the table

  SignalRegistration registration_;
  int slot_ = -1;
  std::vector<int> signals_;
  std::vector<struct sigaction> previous_;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_SCHEDULER_SIGNAL_CANCEL_H_
