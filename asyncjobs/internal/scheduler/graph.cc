// Graph algorithms on node indices: topological order, cycles, reachability.
#include "asyncjobs/internal/scheduler/graph.h"

#include <functional>
#include <queue>

namespace asyncjobs::internal {

Edges reversed(const Edges& edges) {
  Edges result(edges.size());
  for (uint32_t from = 0; from < edges.size(); ++from) {
    for (uint32_t to : edges[from]) result[to].push_back(from);
  }
  return result;
}

std::vector<uint32_t> topological_order(const Edges& edges) {
  const Edges incoming = reversed(edges);
  std::vector<uint32_t> pending(edges.size());
  std::priority_queue<uint32_t, std::vector<uint32_t>, std::greater<>> free;
  for (uint32_t node = 0; node < edges.size(); ++node) {
    pending[node] = static_cast<uint32_t>(edges[node].size());
    if (pending[node] == 0) free.push(node);
  }
  std::vector<uint32_t> order;
  order.reserve(edges.size());
  while (!free.empty()) {
    const uint32_t node = free.top();
    free.pop();
    order.push_back(node);
    for (uint32_t dependent : incoming[node]) {
      if (--pending[dependent] == 0) free.push(dependent);
    }
  }
  return order;
}

std::vector<uint32_t> find_cycle(const Edges& edges) {
  enum Color : uint8_t { kWhite, kGrey, kBlack };
  std::vector<Color> color(edges.size(), kWhite);
  std::vector<uint32_t> path;  // grey nodes, in order
  struct Frame {
    uint32_t node;
    size_t next_edge;
  };
  for (uint32_t root = 0; root < edges.size(); ++root) {
    if (color[root] != kWhite) continue;
    std::vector<Frame> stack{{root, 0}};
    color[root] = kGrey;
    path.assign(1, root);
    while (!stack.empty()) {
      Frame& frame = stack.back();
      if (frame.next_edge == edges[frame.node].size()) {
        color[frame.node] = kBlack;
        path.pop_back();
        stack.pop_back();
        continue;
      }
      const uint32_t next = edges[frame.node][frame.next_edge++];
      if (color[next] == kGrey) {
        size_t start = 0;
        while (path[start] != next) ++start;
        return std::vector<uint32_t>(path.begin() + start, path.end());
      }
      if (color[next] == kWhite) {
        color[next] = kGrey;
        path.push_back(next);
        stack.push_back({next, 0});
      }
    }
  }
  return {};
}

std::vector<bool> reachable_from(const Edges& edges, const std::vector<uint32_t>& starts) {
  std::vector<bool> seen(edges.size(), false);
  std::vector<uint32_t> stack;
  for (uint32_t start : starts) {
    for (uint32_t next : edges[start]) stack.push_back(next);
  }
  while (!stack.empty()) {
    const uint32_t node = stack.back();
    stack.pop_back();
    if (seen[node]) continue;
    seen[node] = true;
    for (uint32_t next : edges[node]) stack.push_back(next);
  }
  return seen;
}

}  // namespace asyncjobs::internal
