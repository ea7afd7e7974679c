//! The per-state write lock behind [`super::State::transaction`].
//!
//! Every write to a state holds it, so a rule that spans records (a unique
//! e-mail, the last admin, a reference to a department or a company) is
//! checked and applied with no other write in between. Reads never take it.
//!
//! It is re-entrant on one thread: a vendor wraps its check and its write in
//! a transaction, and the store's own write methods inside it take the lock
//! again without waiting for themselves. Every holder is synchronous (the
//! guard is not `Send`), so it is never held across an `.await`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

thread_local! {
    /// Its address tells this thread apart from every other live thread.
    static THREAD_MARK: u8 = const { 0 };
}

fn this_thread() -> usize {
    THREAD_MARK.with(|mark| std::ptr::from_ref(mark) as usize)
}

#[derive(Debug, Default)]
pub(super) struct WriteLock {
    mutex: Mutex<()>,
    /// The thread holding `mutex`, 0 when none. Only the holder writes its
    /// own mark here, so a thread that reads its own mark holds the lock.
    owner: AtomicUsize,
}

/// Held while a write or a transaction runs; dropping it releases the lock
/// (unless an outer guard of the same thread still holds it).
pub(super) struct WriteGuard<'a> {
    outer: Option<(&'a WriteLock, MutexGuard<'a, ()>)>,
}

impl WriteLock {
    pub fn hold(&self) -> WriteGuard<'_> {
        let me = this_thread();
        if self.owner.load(Ordering::Acquire) == me {
            return WriteGuard { outer: None };
        }
        // A panic while holding it leaves nothing half-applied that the
        // lock protected beyond what the panicking write did; keep serving.
        let guard = self.mutex.lock().unwrap_or_else(PoisonError::into_inner);
        self.owner.store(me, Ordering::Release);
        WriteGuard {
            outer: Some((self, guard)),
        }
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        if let Some((lock, _guard)) = self.outer.take() {
            lock.owner.store(0, Ordering::Release);
            // `_guard` drops here, after the owner is cleared.
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_holder_may_take_it_again_and_others_wait() {
        let lock = Arc::new(WriteLock::default());
        let counter = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = Arc::clone(&lock);
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        let _outer = lock.hold();
                        let _inner = lock.hold();
                        // A read-then-write that would lose updates if two
                        // threads were inside at once.
                        let seen = counter.load(Ordering::Relaxed);
                        std::hint::spin_loop();
                        counter.store(seen + 1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(counter.load(Ordering::Relaxed), 4000);
        // Released: this thread can take it.
        drop(lock.hold());
    }
}
