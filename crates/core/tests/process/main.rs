//! What a process does with breakers: a child forked after a breaker opened sees it half-open
//! on time, and breakers allocate nothing per call and leave no memory behind by name.
//!
//! Run without the test harness (`harness = false`): the fork happens while the process has
//! one thread, and the allocation counts see no other thread's allocations. The tests run one
//! after another.

mod fork;
mod memory;

fn main() {
    fork::run();
    memory::run();
}
