#ifndef ASYNCJOBS_INTERNAL_SCHEDULER_GRAPH_H_
#define ASYNCJOBS_INTERNAL_SCHEDULER_GRAPH_H_

// Pure graph algorithms for the scheduler (no jobs, no fibers).

#include <cstdint>
#include <vector>

#include "absl/container/inlined_vector.h"

namespace asyncjobs::internal {

// Graph algorithms on node indices 0..n-1, nodes numbered in insertion order; `edges[i]`
// lists the nodes i points to (e.g. its requirements). Pure functions: no jobs, no fibers.
using Edges = std::vector<absl::InlinedVector<uint32_t, 2>>;

Edges reversed(const Edges& edges);
// Nodes such that each comes after everything it points to; among nodes free at the same
// time, the lowest index first. Shorter than n when there is a cycle.
std::vector<uint32_t> topological_order(const Edges& edges);
// The nodes of one cycle in order (each points to the next, the last to the first); empty
// if the graph is acyclic.
std::vector<uint32_t> find_cycle(const Edges& edges);
// Whether each node is reachable from `starts` through one or more edges.
std::vector<bool> reachable_from(const Edges& edges, const std::vector<uint32_t>& starts);

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_SCHEDULER_GRAPH_H_
