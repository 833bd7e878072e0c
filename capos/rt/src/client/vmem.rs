use super::{client, params, SMALL_RESULT};
use crate::error::Error;
use crate::transport::Cap;
use capos_schema::capos_capnp::virtual_memory as vm;

const RESERVE: u16 = 0;
const COMMIT: u16 = 1;
const PROTECT: u16 = 2;
const RELEASE: u16 = 3;

/// A page protection, as the VirtualMemory cap takes it (bits: read 1, write 2, execute 4).
/// `bits` is public so tests can send what the kernel must refuse (W+X, unknown bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmProt {
    pub bits: u8,
}

impl VmProt {
    pub const READ: VmProt = VmProt { bits: 1 };
    pub const READ_WRITE: VmProt = VmProt { bits: 3 };
    pub const READ_EXECUTE: VmProt = VmProt { bits: 5 };
}

/// This process's own address space (issue #17): reserve a range, commit zeroed pages in it,
/// change their protection (W^X: code is committed read-write, then protected read-execute),
/// and release them.
pub struct VirtualMemory {
    cap: Cap,
}
client!(VirtualMemory, capos_schema::ids::VIRTUAL_MEMORY);

impl VirtualMemory {
    /// A fresh page-aligned range of `bytes` that nothing is mapped in; returns its base.
    pub fn reserve(&self, bytes: u64) -> Result<u64, Error> {
        let p = params(|m| m.init_root::<vm::reserve_params::Builder>().set_bytes(bytes));
        let reply = self.cap.call(RESERVE, &p, SMALL_RESULT)?;
        Ok(reply.payload.read()?.get_root::<vm::reserve_results::Reader>()?.get_base())
    }

    /// Maps zeroed frames over `[addr, addr+bytes)`, charged to this process's memory quota.
    pub fn commit(&self, addr: u64, bytes: u64, prot: VmProt) -> Result<(), Error> {
        let p = params(|m| {
            let mut r = m.init_root::<vm::commit_params::Builder>();
            r.set_addr(addr);
            r.set_bytes(bytes);
            r.set_prot(prot.bits);
        });
        self.cap.call(COMMIT, &p, SMALL_RESULT).map(drop)
    }

    /// Changes the protection of committed pages (the TLB is flushed for each one changed).
    pub fn protect(&self, addr: u64, bytes: u64, prot: VmProt) -> Result<(), Error> {
        let p = params(|m| {
            let mut r = m.init_root::<vm::protect_params::Builder>();
            r.set_addr(addr);
            r.set_bytes(bytes);
            r.set_prot(prot.bits);
        });
        self.cap.call(PROTECT, &p, SMALL_RESULT).map(drop)
    }

    /// Unmaps the committed pages of the range and gives their frames back.
    pub fn release(&self, addr: u64, bytes: u64) -> Result<(), Error> {
        let p = params(|m| {
            let mut r = m.init_root::<vm::release_params::Builder>();
            r.set_addr(addr);
            r.set_bytes(bytes);
        });
        self.cap.call(RELEASE, &p, SMALL_RESULT).map(drop)
    }
}
