#ifndef ASYNCJOBS_INTERNAL_BASE_INTRUSIVE_LIST_H_
#define ASYNCJOBS_INTERNAL_BASE_INTRUSIVE_LIST_H_

// ListNode and IntrusiveList: a FIFO of nodes that live elsewhere.

namespace asyncjobs::internal {

// A node that links itself into one IntrusiveList at a time; the list owns nothing.
template <class T>
class ListNode {
 public:
  bool linked() const { return previous_ != nullptr; }

 private:
  template <class>
  friend class IntrusiveList;
  ListNode* previous_ = nullptr;
  ListNode* next_ = nullptr;
};

// A doubly linked FIFO of nodes that live elsewhere (often on a waiting fiber's stack), so
// that linking and unlinking allocate nothing.
template <class T>
class IntrusiveList {
 public:
  IntrusiveList() { head_.previous_ = head_.next_ = &head_; }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return head_.next_ == &head_; }
  T* front() const { return empty() ? nullptr : static_cast<T*>(head_.next_); }
  void push_back(T* item) {
    ListNode<T>* node = item;
    node->previous_ = head_.previous_;
    node->next_ = &head_;
    head_.previous_->next_ = node;
    head_.previous_ = node;
  }
  static void remove(T* item) {
    ListNode<T>* node = item;
    node->previous_->next_ = node->next_;
    node->next_->previous_ = node->previous_;
    node->previous_ = node->next_ = nullptr;
  }
  // Fetches the cache lines that `remove(item)` will write.
  static void prefetch_neighbours(const T* item) {
    const ListNode<T>* node = item;
    __builtin_prefetch(node->previous_, 1);
    __builtin_prefetch(node->next_, 1);
  }
  T* pop_front() {
    T* item = front();
    if (item != nullptr) remove(item);
    return item;
  }
  template <class F>
  void for_each(F&& visit) const {
    for (ListNode<T>* node = head_.next_; node != &head_;) {
      ListNode<T>* next = node->next_;  // `visit` may unlink the node
      visit(static_cast<T*>(node));
      node = next;
    }
  }

 private:
  ListNode<T> head_;
};

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_BASE_INTRUSIVE_LIST_H_
