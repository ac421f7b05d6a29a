// Scheduler: a bounded pool of threads that runs tasks now or at a time of
// the injected Clock.
//
// Why: a thread per shard made the thread count, and the stacks, grow with
// the shard count, although an idle shard needs no more than one GetRecords
// call per poll_interval. A shard is a state machine (ShardReader::Next)
// whose steps run on this pool; between two steps a shard costs a timer
// entry, not a thread. A pipeline has two: one for reads, one for emits.
//
// - Pool threads are started when a task is ready and no started thread is
//   free, up to `max_threads`; they live until the scheduler is destroyed.
//   A task may block (a slow sink, a retried checkpoint load): it holds one
//   pool thread meanwhile, never more, and the other threads go on.
// - One timer thread, started with the first timed task, waits on the Clock
//   for the earliest task due and hands due tasks to the pool in due order
//   (in posting order for equal times).
//   It waits on the Clock only while no task is ready to run, so a fake
//   clock, which moves when it is waited on, moves only once the pool has
//   caught up.
// - Hurry(): from then on every task, waiting or posted later, is due at
//   once. A stop uses it: shards waiting to poll again must emit and
//   checkpoint now.
//
// Thread-safety: every member may be called from any thread, tasks included,
// except the destructor, which must not run on a pool thread. The
// destructor waits for running tasks and drops those not started.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

#include "kc/clock.h"

namespace kc::core {

class Scheduler {
 public:
  using Task = std::move_only_function<void()>;

  // REQUIRES: max_threads >= 1
  Scheduler(size_t max_threads, Clock* clock);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs `task` on a pool thread as soon as one is free.
  void Post(Task task);
  // Runs `task` on a pool thread at or after `when` on the clock.
  void PostAt(Clock::TimePoint when, Task task);
  // Makes every task due at once, now and from now on.
  void Hurry();

  // Pool threads started so far (the timer thread not counted).
  size_t threads() const;

 private:
  struct Timer {
    Clock::TimePoint when;
    uint64_t order;
    Task task;
  };
  // Heap order: the earliest time first, then the earliest posted.
  static bool Later(const Timer& a, const Timer& b);

  void ReadyLocked(Task task);  // REQUIRES: mu_ held
  void WorkerLoop();
  void TimerLoop();

  const size_t max_threads_;
  Clock* const clock_;

  mutable std::mutex mu_;
  std::condition_variable work_;                    // a task is ready, or shutdown
  std::condition_variable_any timers_;              // the timer thread may have work
  std::deque<Task> ready_;                          // guarded by mu_
  std::vector<Timer> heap_;                         // guarded by mu_; a heap by Later
  uint64_t posted_ = 0;                             // guarded by mu_
  size_t idle_ = 0;                                 // guarded by mu_: threads waiting for work
  bool hurry_ = false;                              // guarded by mu_
  bool shutdown_ = false;                           // guarded by mu_
  std::optional<Clock::TimePoint> sleeping_until_;  // guarded by mu_
  std::stop_source interrupt_;                      // guarded by mu_: ends the timer's current wait
  std::vector<std::jthread> workers_;               // guarded by mu_
  std::jthread timer_thread_;                       // guarded by mu_; started by the first PostAt
};

}  // namespace kc::core
