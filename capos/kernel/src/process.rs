//! Processes: an address space built from a static ELF, a ring, a cap table, a saved user
//! context, and the exit cell its ProcessHandles watch.

use crate::arch::UserContext;
use crate::caps::Cap;
use crate::mem::account::SharedAccount;
use crate::mem::paging::{AddressSpace, OutOfMemory, ZeroRange};
use crate::mem::phys_to_virt;
use crate::mem::user::UserMem;
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use capos_abi::addr::{CAPSET_ADDR, PAGE_SIZE, RING_ADDR, USER_STACK_SIZE, USER_STACK_TOP};
use capos_kcore::capset;
use capos_kcore::captable::CapTable;
use capos_kcore::console::LineBuffer;
use capos_kcore::elf::{self, ElfError, Segment};
use capos_kcore::ring::{PendingCall, RingState};
use core::cell::RefCell;

pub type Pid = u32;

// region: exit
/// How a process ended (the schema's ExitStatus).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    Faulted(String),
    /// Ended by `ProcessHandle.kill`, with the reason its killer gave.
    Killed(String),
}

/// Shared between a process and every ProcessHandle for it.
#[derive(Default)]
pub struct ExitCell {
    pub status: Option<ExitStatus>,
    /// Calls to `ProcessHandle.wait` that arrived before the exit.
    pub waiters: Vec<(Pid, PendingCall)>,
}
// endregion: exit

/// Why a process could not be created.
#[derive(Debug)]
pub enum LoadError {
    Elf(ElfError),
    CapSet(capset::CapSetError),
    TooManyCaps,
    OutOfMemory(OutOfMemory),
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::Elf(e) => write!(f, "bad elf: {e}"),
            LoadError::CapSet(e) => write!(f, "{e}"),
            LoadError::TooManyCaps => f.write_str("too many grants"),
            LoadError::OutOfMemory(e) => write!(f, "out of memory: {e}"),
        }
    }
}

impl From<OutOfMemory> for LoadError {
    fn from(e: OutOfMemory) -> Self {
        LoadError::OutOfMemory(e)
    }
}

/// What a new process may hold (appendix A.9): the account its frames are charged to, and how
/// many caps its table takes.
pub struct Limits {
    pub account: SharedAccount,
    pub caps: usize,
}

/// One named grant for a new process, in CapSet order.
pub struct NewGrant {
    pub name: String,
    pub cap: Cap,
}

pub struct Process {
    pub pid: Pid,
    pub name: String,
    pub space: AddressSpace,
    pub ctx: Box<UserContext>,
    pub ring: RingState,
    pub caps: CapTable<Cap>,
    pub console: LineBuffer,
    pub exit: Rc<RefCell<ExitCell>>,
    /// The upcall `Timer.setAlarm` armed, if any (see `sched::deliver_alarm`).
    pub alarm: Option<capos_kcore::alarm::Alarm>,
}

// region: load
impl Process {
    /// Builds a process from an ELF image: segments with their own permissions, a 1 MiB stack
    /// above an unmapped guard page, the ring page and the read-only CapSet page.
    pub fn load(
        pid: Pid,
        name: &str,
        image: &[u8],
        grants: Vec<NewGrant>,
        kernel_pml4: u64,
        limits: Limits,
    ) -> Result<Process, LoadError> {
        let parsed = elf::parse(image).map_err(LoadError::Elf)?;
        let mut space = AddressSpace::new(kernel_pml4, limits.account)?;
        match Self::populate(&mut space, &parsed, image, pid, grants, limits.caps) {
            Ok((caps, ctx)) => Ok(Process {
                pid,
                name: String::from(name),
                space,
                ctx,
                ring: RingState::default(),
                caps,
                console: LineBuffer::default(),
                exit: Rc::new(RefCell::new(ExitCell::default())),
                alarm: None,
            }),
            Err(e) => {
                space.destroy();
                Err(e)
            }
        }
    }

    fn populate(
        space: &mut AddressSpace,
        parsed: &elf::Image,
        image: &[u8],
        pid: Pid,
        grants: Vec<NewGrant>,
        cap_limit: usize,
    ) -> Result<(CapTable<Cap>, Box<UserContext>), LoadError> {
        for seg in &parsed.segments {
            load_segment(space, seg, image)?;
        }
        // The stack is lazily zero-filled except its top page; the guard page below it is in
        // no range, so running off the stack is a page fault that kills the process.
        let stack_bottom = USER_STACK_TOP - USER_STACK_SIZE;
        space.add_zero_range(ZeroRange { start: stack_bottom, end: USER_STACK_TOP - PAGE_SIZE, writable: true });
        map_zeroed(space, USER_STACK_TOP - PAGE_SIZE, true)?;
        map_zeroed(space, RING_ADDR, true)?;
        capos_kcore::ring::init(&mut UserMem(space)).map_err(|_| LoadError::OutOfMemory(OutOfMemory::Physical))?;

        let mut caps = CapTable::with_limit(cap_limit);
        let mut entries = Vec::new();
        for g in grants {
            let interface_id = g.cap.interface_id();
            let id = caps.insert(g.cap).map_err(|_| LoadError::TooManyCaps)?;
            entries.push((g.name, id, interface_id));
        }
        let list: Vec<capset::Grant> = entries
            .iter()
            .map(|(n, id, iface)| capset::Grant { name: n.as_bytes(), cap_id: *id, interface_id: *iface })
            .collect();
        // The CapSet page shares the ring page's tables, so after it the space holds one frame more.
        let own = space.account().borrow().is_reserved();
        let frame_quota = if own { space.account().borrow().frames.limit() } else { 0 };
        let memory = capset::Memory { frame_quota, frames_charged: space.charged() + 1 };
        let page = capset::build(&list, memory).map_err(LoadError::CapSet)?;
        let frame = space.alloc_frame()?;
        // SAFETY: the frame was just allocated and is 4096 bytes.
        unsafe { core::ptr::copy_nonoverlapping(page.as_ptr(), phys_to_virt(frame), 4096) };
        space.map(CAPSET_ADDR, frame, false, false).inspect_err(|_| space.free_frame(frame))?;

        let ctx = Box::new(UserContext::new(parsed.entry, USER_STACK_TOP, [RING_ADDR, pid as u64, CAPSET_ADDR]));
        Ok((caps, ctx))
    }
}

fn map_zeroed(space: &mut AddressSpace, va: u64, writable: bool) -> Result<u64, LoadError> {
    let frame = space.alloc_frame()?;
    space.map(va, frame, writable, false).inspect_err(|_| space.free_frame(frame))?;
    Ok(frame)
}

/// Copies one segment page by page; bytes past the file size stay zero (.bss). Pages holding
/// no file bytes of a non-executable segment become a lazy zero range (a 100 MiB wasm heap
/// costs nothing until used).
fn load_segment(space: &mut AddressSpace, seg: &Segment, image: &[u8]) -> Result<(), LoadError> {
    let (first, end) = seg.pages();
    let file_start = seg.vaddr;
    let file_end = seg.vaddr + seg.file_size;
    let eager_end = if seg.executable { end } else { ((file_end + PAGE_SIZE - 1) & !(PAGE_SIZE - 1)).max(first) };
    if eager_end < end {
        space.add_zero_range(ZeroRange { start: eager_end, end, writable: seg.writable });
    }
    for page in (first..eager_end).step_by(PAGE_SIZE as usize) {
        let frame = space.alloc_frame()?;
        let lo = page.max(file_start);
        let hi = (page + PAGE_SIZE).min(file_end);
        if lo < hi {
            let off = (seg.file_offset + (lo - file_start)) as usize;
            let src = &image[off..off + (hi - lo) as usize];
            // SAFETY: the destination lies within the fresh frame (lo - page + len <= 4096).
            unsafe {
                core::ptr::copy_nonoverlapping(src.as_ptr(), phys_to_virt(frame).add((lo - page) as usize), src.len())
            };
        }
        space.map(page, frame, seg.writable, seg.executable).inspect_err(|_| space.free_frame(frame))?;
    }
    Ok(())
}
// endregion: load
