#ifndef ASYNCJOBS_TESTS_SLURM_SDIAG_H_
#define ASYNCJOBS_TESTS_SLURM_SDIAG_H_

// What slurmctld counted, per `sdiag`, for the tests and benchmarks/slurm_benchmark.

#include <map>
#include <string>

namespace asyncjobs::slurm::testing {

// slurmctld's RPC counts by message type since it started ("REQUEST_JOB_INFO" -> 12), from
// `sdiag`.
std::map<std::string, long> rpc_counts();
// The job-information RPCs among them (REQUEST_JOB_INFO, REQUEST_JOB_INFO_SINGLE, ...).
long job_info_rpcs(const std::map<std::string, long>& counts);
// What happened between two rpc_counts(), for messages: "REQUEST_JOB_INFO 12, ...".
std::string rpc_difference(const std::map<std::string, long>& before,
                           const std::map<std::string, long>& after);

}  // namespace asyncjobs::slurm::testing

#endif  // ASYNCJOBS_TESTS_SLURM_SDIAG_H_
