//! Physical memory, page tables and the kernel heap.
//!
//! Kernel half layout (shared by every address space through PML4 entries 256-511):
//! - `DIRECT_MAP` (PML4 256): all physical memory below 4 GiB, 2 MiB pages, kernel-only, NX.
//! - `KERNEL_VMA` (PML4 511): the kernel image in 4 KiB pages with per-section permissions
//!   (kmap.rs); nothing else of the first GiB.
//!
//! User half: PML4 entries 0-255, private per process (see `capos_abi::addr`).

pub mod account;
pub mod frame;
pub mod heap;
pub mod kmap;
pub mod paging;
pub mod user;

// region: layout
pub const DIRECT_MAP: u64 = 0xffff_8000_0000_0000;
/// The boot tables map this much physical memory; RAM above it is not used.
pub const DIRECT_MAP_SIZE: u64 = 4 << 30;
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;
// endregion: layout

/// Kernel virtual address of a physical address (below `DIRECT_MAP_SIZE`).
pub fn phys_to_virt(phys: u64) -> *mut u8 {
    debug_assert!(phys < DIRECT_MAP_SIZE);
    (DIRECT_MAP + phys) as *mut u8
}

/// Reads a value from physical memory through the direct map (boot structures only).
pub fn read_phys<T: Copy>(phys: u64) -> T {
    assert!(phys + core::mem::size_of::<T>() as u64 <= DIRECT_MAP_SIZE, "physical address beyond the direct map");
    // SAFETY: the direct map covers every address checked above; unaligned reads are allowed.
    unsafe { core::ptr::read_unaligned(phys_to_virt(phys) as *const T) }
}

/// A byte slice of physical memory (the initrd, user frames).
///
/// # Safety
/// The range must be below `DIRECT_MAP_SIZE` and stay unchanged and unreused for `'static`
/// (or the caller must drop the slice before that memory is reused).
pub unsafe fn phys_slice(phys: u64, len: usize) -> &'static [u8] {
    // SAFETY: forwarded to the caller.
    unsafe { core::slice::from_raw_parts(phys_to_virt(phys), len) }
}
