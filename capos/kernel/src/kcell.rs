//! Global kernel state lives in `KCell`s: a `RefCell` that may sit in a `static`.
//!
//! Sound because the kernel runs on one CPU with interrupts off whenever it is in ring 0 (the
//! one exception, the idle `hlt`, runs a handler that touches no KCell), so there is never
//! concurrent access; the RefCell flag still catches accidental re-entry.

use core::cell::{RefCell, RefMut};

pub struct KCell<T>(RefCell<T>);

// SAFETY: one CPU, no preemption inside the kernel (see module doc).
unsafe impl<T> Sync for KCell<T> {}

impl<T> KCell<T> {
    pub const fn new(value: T) -> Self {
        KCell(RefCell::new(value))
    }
    pub fn borrow_mut(&self) -> RefMut<'_, T> {
        self.0.borrow_mut()
    }
}
