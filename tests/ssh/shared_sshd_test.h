#ifndef ASYNCJOBS_TESTS_SSH_SHARED_SSHD_TEST_H_
#define ASYNCJOBS_TESTS_SSH_SHARED_SSHD_TEST_H_

// A fixture whose test suite shares one LocalSshd (OpenSSH's stock limits), started before
// the suite's first test and stopped after its last. A derived SetUp() calls this one first:
// each test fails at once, saying why, when the sshd could not start.

#include <exception>
#include <string>

#include "gtest/gtest.h"
#include "tests/ssh/local_sshd.h"

namespace asyncjobs::ssh {

class SharedSshdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      sshd_ = new testing::LocalSshd();
    } catch (const std::exception& error) {
      start_error_ = error.what();
    }
  }
  static void TearDownTestSuite() {
    delete sshd_;
    sshd_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(sshd_, nullptr) << "sshd did not start: " << start_error_; }

  static inline testing::LocalSshd* sshd_ = nullptr;
  static inline std::string start_error_;
};

}  // namespace asyncjobs::ssh

#endif  // ASYNCJOBS_TESTS_SSH_SHARED_SSHD_TEST_H_
