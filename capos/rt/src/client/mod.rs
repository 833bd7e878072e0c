//! Typed clients, one per interface of capos.capnp. Each wraps a [`Cap`] whose interface id was
//! checked, encodes params with capnp, decodes results, and releases the cap when dropped.
mod blob;
mod boot_package;
mod console;
mod device;
mod endpoint;
mod entropy;
pub mod http;
pub mod network;
mod process;
pub mod store;
mod timer;
mod vmem;
mod wallclock;

pub use blob::Blob;
pub use boot_package::BootPackage;
pub use console::Console;
pub use device::{block, BarInfo, BlockDevice, BlockInfo, Device, DeviceInfo, DeviceManager, DmaRegion};
pub use endpoint::{Endpoint, EndpointOwner};
pub use entropy::EntropySource;
pub use http::{Fetch, HttpEndpoint, HttpResult};
pub use network::{NetResult, Network, Readiness, TcpListener, TcpSocket, UdpSocket};
pub use process::{ExitStatus, PendingWait, ProcessHandle, ProcessSpawner, SpawnGrant, SpawnQuota, SpawnSource};
pub use timer::Timer;
pub use vmem::{VirtualMemory, VmProt};
pub use wallclock::WallClock;

use crate::transport::Cap;
use alloc::vec::Vec;
use capnp::message::{Builder, HeapAllocator};

/// A typed view of a cap.
pub trait Client: Sized {
    /// The interface id a cap must carry to become this client.
    const INTERFACE_ID: u64;
    fn from_cap(cap: Cap) -> Self;
    fn cap(&self) -> &Cap;
    fn into_cap(self) -> Cap;
    /// Releases the cap now and reports the kernel's answer (dropping releases silently).
    fn release(self) -> Result<(), crate::error::Error> {
        self.into_cap().release()
    }
}

macro_rules! client {
    ($name:ident, $id:expr) => {
        impl $crate::client::Client for $name {
            const INTERFACE_ID: u64 = $id;
            fn from_cap(cap: $crate::transport::Cap) -> Self {
                $name { cap }
            }
            fn cap(&self) -> &$crate::transport::Cap {
                &self.cap
            }
            fn into_cap(self) -> $crate::transport::Cap {
                self.cap
            }
        }
    };
}
pub(crate) use client;

/// Room for a small result message (a few scalars or an empty struct).
pub(crate) const SMALL_RESULT: usize = 256;
/// Room for a result carrying up to `MAX_READ` bytes of data plus framing.
pub(crate) const DATA_RESULT: usize = capos_abi::MAX_READ + 256;

/// Builds a params message with `fill` and frames it.
pub fn params(fill: impl FnOnce(&mut Builder<HeapAllocator>)) -> Vec<u8> {
    // Most params are a few words; longer ones (a long Console line) get a second segment.
    let mut message = capos_schema::wire::builder(32);
    fill(&mut message);
    capos_schema::wire::to_bytes(&message)
}

/// A params message whose root is the empty params struct `T` (methods without arguments).
pub fn empty_params<T: capnp::traits::Owned>() -> Vec<u8> {
    params(|m| {
        let _root: T::Builder<'_> = m.init_root();
    })
}
