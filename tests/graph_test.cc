// internal/scheduler/graph.h alone: pure functions on node indices, no jobs, no fibers.

#include "asyncjobs/internal/scheduler/graph.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace asyncjobs::internal {
namespace {

using Order = std::vector<uint32_t>;

// Builds edges from (from, to) pairs over `n` nodes.
Edges graph(uint32_t n, std::initializer_list<std::pair<uint32_t, uint32_t>> pairs) {
  Edges edges(n);
  for (auto [from, to] : pairs) edges[from].push_back(to);
  return edges;
}

// Whether `cycle` is a cycle of `edges`: each node points to the next, the last to the first.
bool is_cycle(const Edges& edges, const std::vector<uint32_t>& cycle) {
  if (cycle.empty()) return false;
  for (size_t i = 0; i < cycle.size(); ++i) {
    const uint32_t next = cycle[(i + 1) % cycle.size()];
    const auto& out = edges[cycle[i]];
    if (std::find(out.begin(), out.end(), next) == out.end()) return false;
  }
  return true;
}

TEST(GraphTest, ReversedSwapsEveryEdge) {
  const Edges edges = graph(3, {{0, 1}, {0, 2}, {2, 1}});
  const Edges back = reversed(edges);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_TRUE(back[0].empty());
  EXPECT_EQ(std::vector<uint32_t>(back[1].begin(), back[1].end()), (Order{0, 2}));
  EXPECT_EQ(std::vector<uint32_t>(back[2].begin(), back[2].end()), (Order{0}));
  EXPECT_EQ(reversed(back), edges);
}

TEST(GraphTest, TopologicalOrderOfAnEmptyGraph) {
  EXPECT_TRUE(topological_order(Edges{}).empty());
  EXPECT_TRUE(find_cycle(Edges{}).empty());
}

TEST(GraphTest, TopologicalOrderPutsWhatANodePointsToFirst) {
  // Edges are requirements: 0 requires 2, 2 requires 1.
  EXPECT_EQ(topological_order(graph(3, {{0, 2}, {2, 1}})), (Order{1, 2, 0}));
}

TEST(GraphTest, TopologicalOrderBreaksTiesByLowestIndex) {
  EXPECT_EQ(topological_order(graph(4, {})), (Order{0, 1, 2, 3}));
  // 3 and 1 both become free once 2 is placed: 1 first.
  EXPECT_EQ(topological_order(graph(4, {{3, 2}, {1, 2}, {0, 3}})), (Order{2, 1, 3, 0}));
}

TEST(GraphTest, TopologicalOrderIsShortOnACycle) {
  // 1 <-> 2, 0 requires 1, 3 free.
  const Order order = topological_order(graph(4, {{1, 2}, {2, 1}, {0, 1}}));
  EXPECT_EQ(order, (Order{3}));
}

TEST(GraphTest, FindCycleReturnsTheCycleInOrder) {
  const Edges edges = graph(5, {{0, 1}, {1, 2}, {2, 3}, {3, 1}, {4, 0}});
  const std::vector<uint32_t> cycle = find_cycle(edges);
  EXPECT_EQ(cycle.size(), 3u);
  EXPECT_TRUE(is_cycle(edges, cycle));
}

TEST(GraphTest, FindCycleOfASelfLoop) {
  const Edges edges = graph(2, {{1, 1}});
  EXPECT_EQ(find_cycle(edges), (Order{1}));
}

TEST(GraphTest, FindCycleOnADiamondIsEmpty) {
  EXPECT_TRUE(find_cycle(graph(4, {{3, 1}, {3, 2}, {1, 0}, {2, 0}})).empty());
}

TEST(GraphTest, ReachableFromExcludesTheStartsUnlessReachedAgain) {
  // Chain 0 -> 1 -> 2, and 3 -> 0.
  const Edges edges = graph(4, {{0, 1}, {1, 2}, {3, 0}});
  EXPECT_EQ(reachable_from(edges, {0}), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(reachable_from(edges, {3}), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(reachable_from(edges, {2}), (std::vector<bool>{false, false, false, false}));
  EXPECT_EQ(reachable_from(edges, {}), (std::vector<bool>{false, false, false, false}));
  // On a cycle the start reaches itself.
  EXPECT_EQ(reachable_from(graph(2, {{0, 1}, {1, 0}}), {0}), (std::vector<bool>{true, true}));
}

TEST(GraphTest, ReachableFromSeveralStarts) {
  const Edges edges = graph(5, {{0, 1}, {2, 3}});
  EXPECT_EQ(reachable_from(edges, {0, 2}),
            (std::vector<bool>{false, true, false, true, false}));
}

TEST(GraphTest, LargeChainDoesNotOverflowTheStack) {
  const uint32_t n = 200000;
  Edges edges(n);
  for (uint32_t i = 1; i < n; ++i) edges[i].push_back(i - 1);
  const Order order = topological_order(edges);
  ASSERT_EQ(order.size(), n);
  EXPECT_EQ(order.front(), 0u);
  EXPECT_EQ(order.back(), n - 1);
  EXPECT_TRUE(find_cycle(edges).empty());
  edges[0].push_back(n - 1);
  EXPECT_EQ(find_cycle(edges).size(), n);
  EXPECT_EQ(reachable_from(edges, {5})[4], true);
}

}  // namespace
}  // namespace asyncjobs::internal
