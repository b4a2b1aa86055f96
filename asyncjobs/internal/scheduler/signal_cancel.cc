// A fixed table of registrations that signal handlers read without locks.
#include "asyncjobs/internal/scheduler/signal_cancel.h"

#include <atomic>
#include <stdexcept>
#include <string>

namespace asyncjobs::internal {
namespace {

constexpr int kSlots = 64;  // scopes alive at once, in the whole process
std::atomic<SignalRegistration*> slots[kSlots];
std::atomic<int> handlers_running{0};  // handlers reading the table right now

uint64_t bit(int signal) { return signal >= 1 && signal <= 64 ? uint64_t{1} << (signal - 1) : 0; }

void on_signal(int signal) {
  handlers_running.fetch_add(1);
  for (std::atomic<SignalRegistration*>& slot : slots) {
    SignalRegistration* registration = slot.load();
    if (registration != nullptr && (registration->signals & bit(signal)) != 0) {
      registration->callback(registration->argument);
    }
  }
  handlers_running.fetch_sub(1);
}

}  // namespace

SignalCallback::SignalCallback(const std::vector<int>& signals, Callback callback,
                               void* argument)
    : registration_{callback, argument, 0}, signals_(signals) {
  if (signals_.empty()) return;
  for (int signal : signals_) registration_.signals |= bit(signal);
  for (int i = 0; i < kSlots && slot_ < 0; ++i) {
    SignalRegistration* expected = nullptr;
    if (slots[i].compare_exchange_strong(expected, &registration_)) slot_ = i;
  }
  if (slot_ < 0) throw std::runtime_error("asyncjobs: too many runs cancel on signals at once");
  struct sigaction action {};
  action.sa_handler = &on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  previous_.resize(signals_.size());
  for (size_t i = 0; i < signals_.size(); ++i) {
    if (sigaction(signals_[i], &action, &previous_[i]) != 0) {
      const int refused = signals_[i];
      signals_.resize(i);  // restores those installed so far
      release();
      throw std::invalid_argument("asyncjobs: cannot handle signal " +
                                  std::to_string(refused));
    }
  }
}

SignalCallback::~SignalCallback() { release(); }

void SignalCallback::release() {
  for (size_t i = signals_.size(); i-- > 0;) sigaction(signals_[i], &previous_[i], nullptr);
  signals_.clear();
  if (slot_ < 0) return;
  slots[slot_].store(nullptr);
  slot_ = -1;
  while (handlers_running.load() > 0) {  // one may still be calling us from another thread
  }
}

}  // namespace asyncjobs::internal
