//! VirtualMemory: reserve, commit, protect and release pages of the caller's own address space
//! (the first piece of issue #17). kcore's [`Vmem`](capos_kcore::vmem::Vmem) decides what is
//! allowed; this file maps, protects and frees, charging every frame to the caller's account.

use super::{done, encode, params, CallCtx, CapError, KernelCap, Reply};
use crate::mem::paging::{AddressSpace, OutOfMemory};
use alloc::format;
use capos_kcore::vmem::{Prot, VmError, PAGE};
use capos_schema::capnp::message::Builder;
use capos_schema::capos_capnp::virtual_memory as vm;
use capos_schema::ids;

/// Holds no state of its own: it acts on whichever process calls it.
pub struct VirtualMemory;

impl From<VmError> for CapError {
    fn from(e: VmError) -> Self {
        CapError::invalid(format!("{e}"))
    }
}

impl KernelCap for VirtualMemory {
    fn interface_id(&self) -> u64 {
        ids::VIRTUAL_MEMORY
    }

    fn call(&self, method: u16, bytes: &[u8], ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        let msg = params(bytes)?;
        let space = ctx.space;
        let mut out = Builder::new_default();
        match method {
            0 => {
                let p = msg.get_root::<vm::reserve_params::Reader>()?;
                let base = space.vmem.borrow_mut().reserve(p.get_bytes())?;
                out.init_root::<vm::reserve_results::Builder>().set_base(base);
            }
            1 => {
                let p = msg.get_root::<vm::commit_params::Reader>()?;
                commit(space, p.get_addr(), p.get_bytes(), Prot::from_bits(p.get_prot())?)?;
                out.init_root::<vm::commit_results::Builder>();
            }
            2 => {
                let p = msg.get_root::<vm::protect_params::Reader>()?;
                let prot = Prot::from_bits(p.get_prot())?;
                let changes = space.vmem.borrow_mut().protect(p.get_addr(), p.get_bytes(), prot)?;
                for c in changes {
                    let ok = space.set_prot(c.page, c.to.writable(), c.to.executable());
                    debug_assert!(ok, "a committed page is mapped");
                }
                out.init_root::<vm::protect_results::Builder>();
            }
            3 => {
                let p = msg.get_root::<vm::release_params::Reader>()?;
                let pages = space.vmem.borrow_mut().release(p.get_addr(), p.get_bytes())?;
                for page in pages {
                    if let Some(frame) = space.unmap(page) {
                        space.free_frame(frame);
                    }
                }
                out.init_root::<vm::release_results::Builder>();
            }
            m => return Err(CapError::no_method("VirtualMemory", m)),
        }
        done(encode(&out))
    }
}

/// Maps fresh zeroed frames over the range, or, when the account runs out part way, unmaps
/// and frees the ones already mapped and refuses with `overloaded` (page tables made on the way
/// stay charged to the space, as for any mapping, until it is destroyed).
fn commit(space: &AddressSpace, addr: u64, bytes: u64, prot: Prot) -> Result<(), CapError> {
    let pages = space.vmem.borrow().plan_commit(addr, bytes, prot)?;
    let first = pages.start;
    for page in pages {
        let va = page * PAGE;
        let mapped = space
            .alloc_frame()
            .and_then(|frame| space.map(va, frame, prot.writable(), false).inspect_err(|_| space.free_frame(frame)));
        if let Err(e) = mapped {
            let mut vmem = space.vmem.borrow_mut();
            for done_page in first..page {
                let _ = vmem.release(done_page * PAGE, PAGE);
                if let Some(frame) = space.unmap(done_page * PAGE) {
                    space.free_frame(frame);
                }
            }
            return Err(match e {
                OutOfMemory::Quota(q) => {
                    CapError::overloaded(format!("commit of {bytes:#x} bytes: memory {q} (4 KiB frames)"))
                }
                OutOfMemory::Physical => CapError::overloaded("commit: physical memory exhausted"),
            });
        }
        space.vmem.borrow_mut().committed_page(va, prot);
    }
    Ok(())
}
