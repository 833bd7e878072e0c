//! capos-rt: the runtime every capOS user binary links.
//!
//! A binary names its entry and heap size, and gets a [`Runtime`] holding its ring and CapSet:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! capos_rt::entry!(main);
//! capos_rt::heap!(1024 * 1024);
//! fn main(rt: &mut capos_rt::Runtime) -> i32 {
//!     let console: capos_rt::Console = rt.take("console").unwrap();
//!     console.write_line("hello").unwrap();
//!     0
//! }
//! ```
//!
//! Design rules: the ring memory is the only truth about ring indices (nothing is cached, so a
//! corrupted ring can be observed and recovered from); every call waits for the completion with
//! its own `user_data`, keeping others for their waiters; a typed client exists only after its
//! CapSet entry's interface id matched; dropping a client releases its cap.
#![cfg_attr(not(test), no_std)]
extern crate alloc;

pub mod alarm;
pub mod capset;
pub mod client;
pub mod error;
pub mod heap_budget;
pub mod heap_stats;
pub mod line;
pub mod probe;
pub mod ring;
pub mod runtime;
pub mod syscall;
pub mod transport;
#[cfg(any(feature = "wasmtime-platform", test))]
pub mod wasmtime_platform;

#[cfg(all(feature = "runtime", not(test)))]
mod mem;
#[cfg(all(feature = "runtime", not(test)))]
mod panic;
#[cfg(all(feature = "runtime", not(test)))]
mod start;

pub use capos_abi as abi;
pub use capos_schema as schema;
pub use client::{
    block, BlockDevice, Device, DeviceManager, DmaRegion, NetResult, Network, TcpListener, TcpSocket, UdpSocket,
};
pub use client::{empty_params as encode_empty_params, params as encode_params};
pub use client::{
    Blob, BootPackage, Client, Console, Endpoint, EndpointOwner, EntropySource, ExitStatus, PendingWait, ProcessHandle,
    ProcessSpawner, SpawnGrant, SpawnQuota, SpawnSource, Timer, VirtualMemory, VmProt, WallClock,
};
pub use client::{Fetch, HttpEndpoint, HttpResult};
pub use error::Error;
pub use runtime::Runtime;
pub use transport::{Cap, Incoming, Reply, StartedCall, StartedRecv, Transport};

/// The heap allocator. Its memory is the static the binary declares with [`heap!`].
#[cfg(all(feature = "runtime", not(test)))]
#[global_allocator]
static ALLOCATOR: heap_stats::CountingHeap = heap_stats::CountingHeap::empty();

/// Declares the binary's entry point: `fn main(rt: &mut capos_rt::Runtime) -> i32`. The return
/// value becomes the process exit code.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        pub fn __capos_main(rt: &mut $crate::Runtime) -> i32 {
            let main: fn(&mut $crate::Runtime) -> i32 = $main;
            main(rt)
        }
    };
}

/// The usual body of a program's `main`: takes the `console` grant (exit code 2 without one),
/// runs `body` with it, and reports an error `body` returns on the console as `error: …` with exit
/// code 1. `fn main(rt: &mut Runtime) -> i32 { capos_rt::with_console(rt, run) }`.
pub fn with_console(rt: &mut Runtime, body: impl FnOnce(&mut Runtime, &Console) -> Result<i32, Error>) -> i32 {
    let Ok(console) = rt.take::<Console>("console") else {
        return 2;
    };
    match body(rt, &console) {
        Ok(code) => code,
        Err(e) => {
            let _ = console.write_line(&alloc::format!("error: {e}"));
            1
        }
    }
}

/// Declares the heap: `heap!(bytes)` reserves a zero-initialised static of that size (in .bss,
/// so it costs nothing in the ELF file) and hands it to the allocator at start.
#[macro_export]
macro_rules! heap {
    ($size:expr) => {
        #[no_mangle]
        pub fn __capos_heap() -> (*mut u8, usize) {
            #[repr(C, align(4096))]
            struct Heap([u8; $size]);
            static mut HEAP: Heap = Heap([0; $size]);
            // Only the address is taken here; the runtime calls this once and gives the memory
            // to the allocator, which is the only user from then on.
            (core::ptr::addr_of_mut!(HEAP) as *mut u8, $size)
        }
    };
}
