#include "engine/scheduler.h"

#include <algorithm>

namespace kc::core {

Scheduler::Scheduler(size_t max_threads, Clock* clock)
    : max_threads_(std::max<size_t>(1, max_threads)), clock_(clock) {}

Scheduler::~Scheduler() {
  std::vector<std::jthread> workers;
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
    interrupt_.request_stop();
    workers.swap(workers_);
  }
  work_.notify_all();
  timers_.notify_all();
  if (timer_thread_.joinable()) timer_thread_.join();
  for (auto& w : workers) w.join();
}

bool Scheduler::Later(const Timer& a, const Timer& b) {
  if (a.when != b.when) return a.when > b.when;
  return a.order > b.order;
}

size_t Scheduler::threads() const {
  std::lock_guard lock(mu_);
  return workers_.size();
}

void Scheduler::ReadyLocked(Task task) {
  ready_.push_back(std::move(task));
  // Idle threads that were woken stay counted as idle until they take their
  // task, so every ready task beyond them needs a thread of its own.
  if (ready_.size() > idle_ && workers_.size() < max_threads_) {
    workers_.emplace_back([this] { WorkerLoop(); });
  } else {
    work_.notify_one();
  }
}

void Scheduler::Post(Task task) {
  std::lock_guard lock(mu_);
  if (shutdown_) return;
  ReadyLocked(std::move(task));
}

void Scheduler::PostAt(Clock::TimePoint when, Task task) {
  {
    std::lock_guard lock(mu_);
    if (shutdown_) return;
    if (hurry_) {
      ReadyLocked(std::move(task));
      return;
    }
    if (!timer_thread_.joinable()) timer_thread_ = std::jthread([this] { TimerLoop(); });
    heap_.push_back(Timer{when, posted_++, std::move(task)});
    std::push_heap(heap_.begin(), heap_.end(), Later);
    if (sleeping_until_ && when < *sleeping_until_) interrupt_.request_stop();
  }
  timers_.notify_one();
}

void Scheduler::Hurry() {
  {
    std::lock_guard lock(mu_);
    hurry_ = true;
    interrupt_.request_stop();
  }
  timers_.notify_one();
}

void Scheduler::WorkerLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    work_.wait(lock, [&] { return shutdown_ || !ready_.empty(); });
    --idle_;
    if (shutdown_) return;
    Task task = std::move(ready_.front());
    ready_.pop_front();
    if (ready_.empty()) timers_.notify_one();
    lock.unlock();
    task();
    task = nullptr;  // whatever the task holds is released outside the lock
    lock.lock();
  }
}

void Scheduler::TimerLoop() {
  std::unique_lock lock(mu_);
  while (!shutdown_) {
    if (heap_.empty() || !ready_.empty()) {
      timers_.wait(lock);
      continue;
    }
    const Clock::TimePoint now = clock_->Now();
    if (hurry_ || heap_.front().when <= now) {
      while (!heap_.empty() && (hurry_ || heap_.front().when <= now)) {
        std::pop_heap(heap_.begin(), heap_.end(), Later);
        Task task = std::move(heap_.back().task);
        heap_.pop_back();
        ReadyLocked(std::move(task));
      }
      continue;
    }
    const Clock::TimePoint until = heap_.front().when;
    interrupt_ = std::stop_source();
    std::stop_token interrupted = interrupt_.get_token();
    sleeping_until_ = until;
    lock.unlock();
    clock_->SleepFor(until - now, interrupted);
    lock.lock();
    sleeping_until_.reset();
  }
}

}  // namespace kc::core
