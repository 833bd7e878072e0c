//! Frame accounts: whose physical memory a frame is charged to.
//!
//! Every process charges the frames of its address space (pages, page tables, DMA buffers) to
//! an [`Account`]. A service started with a memory quota gets an account of its own, reserved in
//! full from its parent's (kcore's [`Quota::reserve`]); one started without shares its parent's.
//! init's account is the root: what the frame allocator had free when init was loaded, less
//! [`KERNEL_RESERVE`] frames. Reservations never add up to more than the root, so a process
//! inside its quota never meets an empty frame allocator.

use alloc::rc::Rc;
use capos_kcore::quota::{Exhausted, Quota};
use core::cell::RefCell;

/// Frames the root account leaves to the kernel (kernel page tables it grows later).
pub const KERNEL_RESERVE: u64 = 256;

// region: account
pub struct Account {
    pub frames: Quota,
    /// The account this one's limit is reserved from; None for the root.
    parent: Option<SharedAccount>,
}

pub type SharedAccount = Rc<RefCell<Account>>;

impl Account {
    pub fn root(frames: u64) -> SharedAccount {
        Rc::new(RefCell::new(Account { frames: Quota::new(frames), parent: None }))
    }

    /// A child account of `frames`, reserved from `parent`.
    pub fn reserve_from(parent: &SharedAccount, frames: u64) -> Result<SharedAccount, Exhausted> {
        let quota = parent.borrow_mut().frames.reserve(frames)?;
        Ok(Rc::new(RefCell::new(Account { frames: quota, parent: Some(parent.clone()) })))
    }

    /// Whether this account is reserved from another (a service with its own quota).
    pub fn is_reserved(&self) -> bool {
        self.parent.is_some()
    }
}

impl Drop for Account {
    /// The last process on this account ended: its reservation goes back to the parent.
    fn drop(&mut self) {
        if let Some(parent) = &self.parent {
            parent.borrow_mut().frames.unreserve(&self.frames);
        }
    }
}
// endregion: account
