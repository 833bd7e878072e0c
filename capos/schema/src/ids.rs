//! Interface ids and kernel cap names.
//!
//! An interface id is the 64-bit Cap'n Proto id of the interface (capnpc's `TYPE_ID`). The kernel
//! writes it into CapSet entries and result-cap records; capos-rt refuses a typed lookup whose id
//! does not match, so a cap can never be used through the wrong client.
use crate::capos_capnp as c;
use capnp::traits::HasTypeId;

pub const CONSOLE: u64 = <c::console::Client as HasTypeId>::TYPE_ID;
pub const TIMER: u64 = <c::timer::Client as HasTypeId>::TYPE_ID;
pub const ENTROPY_SOURCE: u64 = <c::entropy_source::Client as HasTypeId>::TYPE_ID;
pub const BOOT_PACKAGE: u64 = <c::boot_package::Client as HasTypeId>::TYPE_ID;
pub const PROCESS_SPAWNER: u64 = <c::process_spawner::Client as HasTypeId>::TYPE_ID;
pub const PROCESS_HANDLE: u64 = <c::process_handle::Client as HasTypeId>::TYPE_ID;
pub const BLOB: u64 = <c::blob::Client as HasTypeId>::TYPE_ID;
/// An Endpoint's client facet (CALL only). Equal to `capos_abi::endpoint::ENDPOINT_CLIENT_ID`.
pub const ENDPOINT: u64 = <c::endpoint::Client as HasTypeId>::TYPE_ID;
/// An Endpoint's owner facet (RECV, RETURN). Equal to `capos_abi::endpoint::ENDPOINT_OWNER_ID`.
pub const ENDPOINT_OWNER: u64 = <c::endpoint_owner::Client as HasTypeId>::TYPE_ID;
/// The kernel's device table (kernel cap `devices`, appendix A.6).
pub const DEVICE_MANAGER: u64 = <c::device_manager::Client as HasTypeId>::TYPE_ID;
/// One PCI function held by one driver.
pub const DEVICE: u64 = <c::device::Client as HasTypeId>::TYPE_ID;
/// The protocol a block driver serves on its Endpoint (the cap itself is an Endpoint client facet).
pub const BLOCK_DEVICE: u64 = <c::block_device::Client as HasTypeId>::TYPE_ID;
/// Wall-clock time (ours, ahead of upstream; chapter W.8).
pub const WALL_CLOCK: u64 = <c::wall_clock::Client as HasTypeId>::TYPE_ID;
/// The caller's own address space (kernel cap `vmem`, issue #17).
pub const VIRTUAL_MEMORY: u64 = <c::virtual_memory::Client as HasTypeId>::TYPE_ID;
/// The store's volume, directories and files (appendix A.7); each cap is an Endpoint client facet.
pub const STORE: u64 = <c::store::Client as HasTypeId>::TYPE_ID;
pub const NAMESPACE: u64 = <c::namespace::Client as HasTypeId>::TYPE_ID;
pub const FILE: u64 = <c::file::Client as HasTypeId>::TYPE_ID;

/// A capability the kernel itself serves, named in manifests by [`KernelCap::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelCap {
    Console,
    Timer,
    Entropy,
    BootPackage,
    Spawner,
    Devices,
    WallClock,
    VirtualMemory,
}

impl KernelCap {
    /// Every kernel cap, in the order error messages list them.
    pub const ALL: [KernelCap; 8] = [
        KernelCap::Console,
        KernelCap::Timer,
        KernelCap::Entropy,
        KernelCap::BootPackage,
        KernelCap::Spawner,
        KernelCap::Devices,
        KernelCap::WallClock,
        KernelCap::VirtualMemory,
    ];

    /// The manifest name (`ManifestGrant.source.kernel`).
    pub const fn name(self) -> &'static str {
        match self {
            KernelCap::Console => "console",
            KernelCap::Timer => "timer",
            KernelCap::Entropy => "entropy",
            KernelCap::BootPackage => "bootPackage",
            KernelCap::Spawner => "spawner",
            KernelCap::Devices => "devices",
            KernelCap::WallClock => "wallclock",
            KernelCap::VirtualMemory => "vmem",
        }
    }

    /// The interface the cap implements.
    pub const fn interface_id(self) -> u64 {
        match self {
            KernelCap::Console => CONSOLE,
            KernelCap::Timer => TIMER,
            KernelCap::Entropy => ENTROPY_SOURCE,
            KernelCap::BootPackage => BOOT_PACKAGE,
            KernelCap::Spawner => PROCESS_SPAWNER,
            KernelCap::Devices => DEVICE_MANAGER,
            KernelCap::WallClock => WALL_CLOCK,
            KernelCap::VirtualMemory => VIRTUAL_MEMORY,
        }
    }

    pub fn from_name(name: &str) -> Option<KernelCap> {
        KernelCap::ALL.into_iter().find(|cap| cap.name() == name)
    }
}

/// The allowed kernel cap names joined for error messages: `console, timer, …`.
pub const KERNEL_CAP_NAMES: &str = "console, timer, entropy, bootPackage, spawner, devices, wallclock, vmem";

/// A human name for an interface id, for diagnostics.
pub fn interface_name(id: u64) -> &'static str {
    match id {
        CONSOLE => "Console",
        TIMER => "Timer",
        ENTROPY_SOURCE => "EntropySource",
        BOOT_PACKAGE => "BootPackage",
        PROCESS_SPAWNER => "ProcessSpawner",
        PROCESS_HANDLE => "ProcessHandle",
        BLOB => "Blob",
        ENDPOINT => "Endpoint",
        ENDPOINT_OWNER => "EndpointOwner",
        DEVICE_MANAGER => "DeviceManager",
        DEVICE => "Device",
        BLOCK_DEVICE => "BlockDevice",
        WALL_CLOCK => "WallClock",
        STORE => "Store",
        NAMESPACE => "Namespace",
        FILE => "File",
        _ => "unknown interface",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_match_the_schema_file() {
        let all = [
            CONSOLE,
            TIMER,
            ENTROPY_SOURCE,
            BOOT_PACKAGE,
            PROCESS_SPAWNER,
            PROCESS_HANDLE,
            BLOB,
            ENDPOINT,
            ENDPOINT_OWNER,
            DEVICE_MANAGER,
            DEVICE,
            BLOCK_DEVICE,
            WALL_CLOCK,
            STORE,
            NAMESPACE,
            FILE,
        ];
        for (i, a) in all.iter().enumerate() {
            assert_ne!(interface_name(*a), "unknown interface");
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // Cap'n Proto ids always have the top bit set.
        assert!(all.iter().all(|id| id >> 63 == 1));
    }

    #[test]
    fn endpoint_ids_are_the_ones_the_kernel_uses() {
        // capos-abi cannot depend on the schema, so it repeats the two ids; they must not drift.
        assert_eq!(ENDPOINT, capos_abi::endpoint::ENDPOINT_CLIENT_ID);
        assert_eq!(ENDPOINT_OWNER, capos_abi::endpoint::ENDPOINT_OWNER_ID);
    }

    #[test]
    fn kernel_cap_names_round_trip() {
        for cap in KernelCap::ALL {
            assert_eq!(KernelCap::from_name(cap.name()), Some(cap));
            assert!(KERNEL_CAP_NAMES.contains(cap.name()));
        }
        assert_eq!(KernelCap::from_name("network"), None);
    }
}
