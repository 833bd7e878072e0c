//! Accounts: whose physical memory a frame is charged to, and whose share of the kernel heap a
//! waiting message is.
//!
//! Every process charges the frames of its address space (pages, page tables, DMA buffers) to
//! an [`Account`]. A service started with a memory quota gets an account of its own, reserved in
//! full from its parent's (kcore's [`Quota::reserve`]); one started without shares its parent's.
//! init's account is the root: what the frame allocator had free when init was loaded, less
//! [`KERNEL_RESERVE`] frames. Reservations never add up to more than the root, so a process
//! inside its quota never meets an empty frame allocator.
//!
//! The kernel heap is divided the same way, in bytes. The root holds what the heap had free when
//! init was loaded, less [`KERNEL_HEAP_RESERVE`]; an account of its own reserves
//! [`KERNEL_SHARE`] bytes from its parent's. What a process makes the kernel keep for it while it
//! waits, a queued call's message, is charged to its account's share with a [`KernelCharge`].

use alloc::rc::Rc;
use capos_kcore::quota::{Exhausted, Quota};
use core::cell::RefCell;

/// Frames the root account leaves to the kernel (kernel page tables it grows later).
pub const KERNEL_RESERVE: u64 = 256;
/// Heap bytes the root's share leaves to the kernel itself: process records, cap tables,
/// endpoints, and everything a call allocates only while the kernel handles it.
pub const KERNEL_HEAP_RESERVE: u64 = 8 << 20;
/// The kernel-heap share an account of its own reserves: four waiting calls of the largest
/// message, or many more small ones.
pub const KERNEL_SHARE: u64 = 256 << 10;
/// The largest share a spawn may ask for (`quota.kernelKiB`): half the kernel heap.
pub const KERNEL_SHARE_MOST: u64 = 16 << 20;

// region: account
pub struct Account {
    pub frames: Quota,
    /// Bytes of kernel heap this account's processes may keep waiting in queues.
    pub kernel: Quota,
    /// The account this one's limits are reserved from; None for the root.
    parent: Option<SharedAccount>,
}

pub type SharedAccount = Rc<RefCell<Account>>;

/// Which of an account's two limits a reservation could not get.
#[derive(Debug)]
pub enum Reservation {
    Frames(Exhausted),
    KernelHeap(Exhausted),
}

impl Account {
    pub fn root(frames: u64, kernel_bytes: u64) -> SharedAccount {
        let account = Account { frames: Quota::new(frames), kernel: Quota::new(kernel_bytes), parent: None };
        Rc::new(RefCell::new(account))
    }

    /// A child account of `frames` and `kernel_bytes`, both reserved from `parent`, or neither.
    pub fn reserve_from(parent: &SharedAccount, frames: u64, kernel_bytes: u64) -> Result<SharedAccount, Reservation> {
        let mut p = parent.borrow_mut();
        let frames = p.frames.reserve(frames).map_err(Reservation::Frames)?;
        let kernel = match p.kernel.reserve(kernel_bytes) {
            Ok(kernel) => kernel,
            Err(e) => {
                p.frames.unreserve(&frames);
                return Err(Reservation::KernelHeap(e));
            }
        };
        drop(p);
        Ok(Rc::new(RefCell::new(Account { frames, kernel, parent: Some(parent.clone()) })))
    }

    /// Whether this account is reserved from another (a service with its own quota).
    pub fn is_reserved(&self) -> bool {
        self.parent.is_some()
    }
}

impl Drop for Account {
    /// The last process on this account ended: its reservations go back to the parent.
    fn drop(&mut self) {
        if let Some(parent) = &self.parent {
            let mut p = parent.borrow_mut();
            p.frames.unreserve(&self.frames);
            p.kernel.unreserve(&self.kernel);
        }
    }
}
// endregion: account

// region: kernel-charge
/// Kernel-heap bytes charged to an account for as long as this value lives: it travels with a
/// queued message (kcore's `Message::ticket`) and gives the bytes back when the message is
/// dropped, however it leaves the queue (delivered, refused, disconnected, its caller gone).
#[derive(Default)]
pub struct KernelCharge {
    charged: Option<(SharedAccount, u64)>,
}

impl KernelCharge {
    /// Charges `bytes` to `account`'s kernel-heap share, or nothing when they do not fit.
    pub fn take(account: &SharedAccount, bytes: u64) -> Result<KernelCharge, Exhausted> {
        account.borrow_mut().kernel.charge(bytes)?;
        Ok(KernelCharge { charged: Some((account.clone(), bytes)) })
    }
}

impl Drop for KernelCharge {
    fn drop(&mut self) {
        if let Some((account, bytes)) = self.charged.take() {
            account.borrow_mut().kernel.release(bytes);
        }
    }
}
// endregion: kernel-charge
