//! Decoding and validating a `SystemManifest`.
//!
//! One implementation serves mkmanifest (it re-reads what it packed), the kernel (before it starts
//! init) and init (before it spawns anything): a manifest corrupted after mkmanifest is refused
//! with the same message everywhere. Errors carry a field path in the manifest's own terms
//! (`initConfig.services[1].grants.args.text`), so mkmanifest can point into the CUE file.
//!
//! The decoded [`Manifest`] borrows names and data from the message: a kernel can validate a
//! manifest of many MiB without copying its binaries.
use crate::capos_capnp::{binary, device_spec, manifest_grant, system_manifest};
use crate::ids::{KernelCap, KERNEL_CAP_NAMES};
pub use crate::supervision::{Restart, Supervision};
use crate::wire;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use capnp::message::{Reader, ReaderSegments};
use capos_abi::{capset, GRANT_TEXT_MAX, MANIFEST_SCHEMA_VERSION, NAME_MAX};
use core::fmt;

/// The service the kernel starts; every other service is spawned by it.
pub const INIT: &str = "init";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest<'a> {
    pub schema_version: u32,
    pub binaries: Vec<Binary<'a>>,
    /// In manifest order, init included.
    pub services: Vec<Service<'a>>,
    pub kernel_params: KernelParams,
    /// PCI functions the kernel may hand out through DeviceManager (appendix A.6).
    pub devices: Vec<DeviceSpec<'a>>,
}

/// One `devices` entry: the first PCI function of that vendor (and device id, when not 0) and
/// base class becomes device `name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceSpec<'a> {
    pub name: &'a str,
    pub vendor: u16,
    /// 0 matches any device id of the vendor.
    pub device: u16,
    pub class: u8,
    /// Whether the driver may wait on the function's interrupt.
    pub interrupt: bool,
    /// DMA memory the driver may hold at once, in bytes.
    pub dma_bytes: u64,
}

/// The most DMA memory one device entry may allow (a quota, not a reservation).
pub const DMA_BYTES_MAX: u64 = 64 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binary<'a> {
    pub name: &'a str,
    pub kind: BinaryKind,
    pub data: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryKind {
    /// A static ELF executable a service can run.
    Elf,
    /// Data handed to services as a Blob cap.
    Blob,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service<'a> {
    pub name: &'a str,
    /// Name of an `Elf` entry of `binaries`.
    pub binary: &'a str,
    /// In manifest order; the child's CapSet lists them in this order.
    pub grants: Vec<Grant<'a>>,
    /// Ordering, restarts and deadline (see [`crate::supervision`]).
    pub supervision: Supervision<'a>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant<'a> {
    pub name: &'a str,
    pub source: GrantSource<'a>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantSource<'a> {
    Kernel(KernelCap),
    /// Name of a `binaries` entry, served as a Blob.
    Blob(&'a str),
    /// Inline text of at most `GRANT_TEXT_MAX` bytes, served as a Blob.
    Text(&'a str),
    /// The owner facet of the endpoint init makes for this service's export of that name.
    Export(&'a str),
    /// `<service>.<export>`: a client facet of that service's export.
    Import(&'a str),
    /// A DeviceManager that opens only the manifest device of that name (appendix A.6).
    Device(&'a str),
}

/// Splits an import `<service>.<export>` at its last dot (export names have no dot; service
/// names may). None when either side is empty.
pub fn split_import(import: &str) -> Option<(&str, &str)> {
    let (service, export) = import.rsplit_once('.')?;
    if service.is_empty() || export.is_empty() {
        return None;
    }
    Some((service, export))
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelParams {
    /// The kernel logs each transport error it answers.
    pub trace_errors: bool,
}

impl<'a> Manifest<'a> {
    pub fn binary(&self, name: &str) -> Option<&Binary<'a>> {
        self.binaries.iter().find(|b| b.name == name)
    }

    pub fn service(&self, name: &str) -> Option<&Service<'a>> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Every export as `(service, export)`, in manifest order: one endpoint each.
    pub fn exports(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.services.iter().flat_map(|s| {
            s.grants.iter().filter_map(move |g| match g.source {
                GrantSource::Export(name) => Some((s.name, name)),
                _ => None,
            })
        })
    }

    /// The services init spawns, in manifest order.
    pub fn children(&self) -> impl Iterator<Item = &Service<'a>> {
        self.services.iter().filter(|s| s.name != INIT)
    }
}

/// A manifest problem: where (`path`) and what (`kind`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    pub path: String,
    pub kind: ManifestErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManifestErrorKind {
    /// The bytes are not a readable SystemManifest message.
    Malformed(String),
    /// A text field is not valid UTF-8.
    NotUtf8,
    /// An enum field holds a value this schema does not know.
    UnknownEnumValue(u16),
    SchemaVersion {
        found: u32,
    },
    EmptyName,
    NameTooLong {
        len: usize,
    },
    Duplicate(String),
    UnknownBinary(String),
    /// A service names a binary that is not an ELF executable.
    NotElf(String),
    /// An `elf` binary whose bytes do not start with the ELF magic.
    BadElfMagic,
    UnknownKernelCap(String),
    UnknownBlob(String),
    TextTooLong {
        len: usize,
    },
    TooManyGrants {
        count: usize,
    },
    NoInit,
    /// An export name that is empty, too long or contains a dot.
    BadExportName(String),
    /// The service already exports this name through another grant.
    DuplicateExport(String),
    /// An import not of the form `<service>.<export>`.
    BadImport(String),
    /// An import naming a service that does not exist.
    ImportUnknownService {
        import: String,
        service: String,
    },
    /// An import naming an export its service does not have.
    ImportUnknownExport {
        import: String,
        service: String,
    },
    /// init is started by the kernel, which makes no endpoints, so it can neither export nor import.
    InitEndpoint,
    /// init is started by the kernel, not supervised: it can have no after, restart or deadline.
    InitSupervised,
    /// An `after` naming no other service (or the service itself, or init).
    BadAfter(String),
    /// Services that come after each other, as `a -> b -> a`.
    AfterCycle(String),
    /// A restart limit outside 1..=MAX_RESTARTS.
    RestartLimit {
        limit: u32,
    },
    /// A backoff or deadline over MAX_MS.
    TooManyMs {
        ms: u32,
    },
    /// A deadline or restart, but init holds no timer to keep time with.
    InitNeedsTimer,
    /// A memory quota over MAX_MEMORY_MIB, or a cap quota over the table's most.
    QuotaTooLarge {
        what: &'static str,
        value: u32,
        max: u32,
    },
    /// A kernel-heap share (`kernelKiB`) for a service that shares init's account: a share is
    /// reserved with a memory quota of its own, so it needs `memoryMiB` too.
    KernelShareNeedsMemory,
    /// A device entry's vendor id is 0 or 0xffff (no such PCI vendor).
    BadVendor(u16),
    /// A device entry allows more DMA memory than [`DMA_BYTES_MAX`].
    DmaTooLarge(u64),
    /// A `device` grant naming no entry of the manifest's `devices`.
    UnknownDevice(String),
    /// `kernel: "devices"` in a service's grants: the whole table stays with init.
    WholeDeviceTable,
}

impl fmt::Display for ManifestErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "malformed manifest message: {why}"),
            Self::NotUtf8 => write!(f, "text is not valid utf-8"),
            Self::UnknownEnumValue(v) => write!(f, "unknown enum value {v}"),
            Self::SchemaVersion { found } => {
                write!(f, "schema version {found} is not supported (expected {MANIFEST_SCHEMA_VERSION})")
            }
            Self::EmptyName => write!(f, "name is empty"),
            Self::NameTooLong { len } => write!(f, "name is {len} bytes, the limit is {NAME_MAX}"),
            Self::Duplicate(name) => write!(f, "duplicate name \"{name}\""),
            Self::UnknownBinary(name) => write!(f, "no binary named \"{name}\" in binaries"),
            Self::NotElf(name) => write!(f, "binary \"{name}\" is not of kind elf"),
            Self::BadElfMagic => write!(f, "data does not start with the ELF magic"),
            Self::UnknownKernelCap(name) => {
                write!(f, "unknown kernel cap \"{name}\" (allowed: {KERNEL_CAP_NAMES})")
            }
            Self::UnknownBlob(name) => write!(f, "no binary named \"{name}\" in binaries for this blob grant"),
            Self::TextTooLong { len } => write!(f, "text is {len} bytes, the limit is {GRANT_TEXT_MAX}"),
            Self::TooManyGrants { count } => {
                write!(f, "{count} grants, the limit is {}", capset::MAX_ENTRIES)
            }
            Self::NoInit => write!(f, "no service named \"{INIT}\" (init is mandatory)"),
            Self::BadExportName(name) => {
                write!(f, "export name \"{name}\" must be 1 to {NAME_MAX} bytes without a dot")
            }
            Self::DuplicateExport(name) => write!(f, "this service already exports \"{name}\""),
            Self::BadImport(import) => write!(f, "import \"{import}\" is not of the form <service>.<export>"),
            Self::ImportUnknownService { import, service } => {
                write!(f, "import \"{import}\" names no service (there is no service \"{service}\")")
            }
            Self::ImportUnknownExport { import, service } => {
                write!(
                    f,
                    "import \"{import}\" names no export (service \"{service}\" has no export grant of that name)"
                )
            }
            Self::InitEndpoint => {
                write!(f, "init cannot export or import (the kernel starts init and makes no endpoints)")
            }
            Self::InitSupervised => {
                write!(f, "init cannot have after, mustSucceed, restart or deadlineMs (the kernel starts it, nothing supervises it)")
            }
            Self::BadAfter(name) => {
                write!(f, "after \"{name}\" names no other service (init and the service itself cannot be named)")
            }
            Self::AfterCycle(cycle) => {
                write!(f, "services come after each other in a cycle ({cycle}), so none of them could start")
            }
            Self::RestartLimit { limit } => {
                write!(f, "restart limit {limit} is outside 1 to {}", crate::supervision::MAX_RESTARTS)
            }
            Self::TooManyMs { ms } => write!(f, "{ms} ms is over the limit of {} ms", crate::supervision::MAX_MS),
            Self::QuotaTooLarge { what, value, max } => {
                write!(f, "a {what} quota of {value} is over the limit of {max}")
            }
            Self::KernelShareNeedsMemory => {
                write!(f, "a kernelKiB share is reserved with a memory quota of the service's own: add memoryMiB")
            }
            Self::InitNeedsTimer => {
                write!(f, "init keeps deadlines and backoffs with its timer, but init has no timer grant")
            }
            Self::BadVendor(v) => write!(f, "vendor {v:#06x} is not a PCI vendor id"),
            Self::DmaTooLarge(n) => write!(f, "dmaBytes {n} is over the limit of {DMA_BYTES_MAX}"),
            Self::UnknownDevice(name) => write!(f, "no device named \"{name}\" in the manifest's devices"),
            Self::WholeDeviceTable => {
                write!(f, "the whole device table stays with init: grant one device with device: \"<name>\"")
            }
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.kind)
    }
}

fn error(path: impl Into<String>, kind: ManifestErrorKind) -> ManifestError {
    ManifestError { path: path.into(), kind }
}

fn malformed(path: &str, e: capnp::Error) -> ManifestError {
    error(path, ManifestErrorKind::Malformed(e.to_string()))
}

/// Reads, decodes and validates a framed manifest held in an 8-byte aligned buffer.
pub fn read(bytes: &[u8]) -> Result<Reader<capnp::serialize::BufferSegments<&[u8]>>, ManifestError> {
    wire::read(bytes).map_err(|e| malformed("manifest", e))
}

/// Decodes the message and validates the result; see [`validate`].
pub fn decode<'a, S: ReaderSegments>(message: &'a Reader<S>) -> Result<Manifest<'a>, ManifestError> {
    let root = message.get_root::<system_manifest::Reader<'a>>().map_err(|e| malformed("manifest", e))?;
    let manifest = decode_root(root)?;
    validate(&manifest)?;
    Ok(manifest)
}

fn text<'a>(path: &str, t: capnp::Result<capnp::text::Reader<'a>>) -> Result<&'a str, ManifestError> {
    t.map_err(|e| malformed(path, e))?.to_str().map_err(|_| error(path, ManifestErrorKind::NotUtf8))
}

fn decode_root<'a>(root: system_manifest::Reader<'a>) -> Result<Manifest<'a>, ManifestError> {
    let mut binaries = Vec::new();
    for (i, b) in root.get_binaries().map_err(|e| malformed("binaries", e))?.iter().enumerate() {
        binaries.push(decode_binary(&format!("binaries[{i}]"), b)?);
    }
    let init_config = root.get_init_config().map_err(|e| malformed("initConfig", e))?;
    let mut services = Vec::new();
    let list = init_config.get_services().map_err(|e| malformed("initConfig.services", e))?;
    for (i, s) in list.iter().enumerate() {
        let path = format!("initConfig.services[{i}]");
        let name = text(&format!("{path}.name"), s.get_name())?;
        let binary = text(&format!("{path}.binary"), s.get_binary())?;
        let mut grants = Vec::new();
        let grant_list = s.get_grants().map_err(|e| malformed(&format!("{path}.grants"), e))?;
        for (j, g) in grant_list.iter().enumerate() {
            grants.push(decode_grant(&format!("{path}.grants"), j, g)?);
        }
        let supervision = crate::supervision::decode(&path, s)?;
        services.push(Service { name, binary, grants, supervision });
    }
    let params = root.get_kernel_params().map_err(|e| malformed("kernelParams", e))?;
    let mut devices = Vec::new();
    for (i, d) in root.get_devices().map_err(|e| malformed("devices", e))?.iter().enumerate() {
        devices.push(decode_device(&format!("devices[{i}]"), d)?);
    }
    Ok(Manifest {
        schema_version: root.get_schema_version(),
        binaries,
        services,
        kernel_params: KernelParams { trace_errors: params.get_trace_errors() },
        devices,
    })
}

fn decode_device<'a>(path: &str, d: device_spec::Reader<'a>) -> Result<DeviceSpec<'a>, ManifestError> {
    Ok(DeviceSpec {
        name: text(&format!("{path}.name"), d.get_name())?,
        vendor: d.get_vendor(),
        device: d.get_device(),
        class: d.get_class(),
        interrupt: d.get_interrupt(),
        dma_bytes: d.get_dma_bytes(),
    })
}

fn decode_binary<'a>(path: &str, b: binary::Reader<'a>) -> Result<Binary<'a>, ManifestError> {
    let name = text(&format!("{path}.name"), b.get_name())?;
    let kind = match b.get_kind() {
        Ok(binary::Kind::Elf) => BinaryKind::Elf,
        Ok(binary::Kind::Blob) => BinaryKind::Blob,
        Err(capnp::NotInSchema(v)) => {
            return Err(error(format!("{path}.kind"), ManifestErrorKind::UnknownEnumValue(v)))
        }
    };
    let data = b.get_data().map_err(|e| malformed(&format!("{path}.data"), e))?;
    Ok(Binary { name, kind, data })
}

fn decode_grant<'a>(parent: &str, index: usize, g: manifest_grant::Reader<'a>) -> Result<Grant<'a>, ManifestError> {
    let name = text(&format!("{parent}[{index}].name"), g.get_name())?;
    let path = &keyed_path(parent, index, name);
    let source = match g.get_source().which() {
        Ok(manifest_grant::source::Kernel(t)) => {
            let cap_path = format!("{path}.kernel");
            let cap_name = text(&cap_path, t)?;
            match KernelCap::from_name(cap_name) {
                Some(cap) => GrantSource::Kernel(cap),
                None => return Err(error(cap_path, ManifestErrorKind::UnknownKernelCap(cap_name.into()))),
            }
        }
        Ok(manifest_grant::source::Blob(t)) => GrantSource::Blob(text(&format!("{path}.blob"), t)?),
        Ok(manifest_grant::source::Text(t)) => GrantSource::Text(text(&format!("{path}.text"), t)?),
        Ok(manifest_grant::source::Export(t)) => GrantSource::Export(text(&format!("{path}.export"), t)?),
        Ok(manifest_grant::source::Import(t)) => GrantSource::Import(text(&format!("{path}.import"), t)?),
        Ok(manifest_grant::source::Device(t)) => GrantSource::Device(text(&format!("{path}.device"), t)?),
        Err(capnp::NotInSchema(v)) => {
            return Err(error(format!("{path}.source"), ManifestErrorKind::UnknownEnumValue(v)))
        }
    };
    Ok(Grant { name, source })
}

/// Binaries and grants are structs keyed by name in CUE, so their paths use the name
/// (`binaries.hello`, `grants.args`); an empty name falls back to the list index.
fn keyed_path(parent: &str, index: usize, name: &str) -> String {
    if name.is_empty() {
        format!("{parent}[{index}]")
    } else {
        format!("{parent}.{name}")
    }
}

fn check_name(path: &str, name: &str) -> Result<(), ManifestError> {
    if name.is_empty() {
        return Err(error(path, ManifestErrorKind::EmptyName));
    }
    if name.len() > NAME_MAX {
        return Err(error(path, ManifestErrorKind::NameTooLong { len: name.len() }));
    }
    Ok(())
}

// region: validate
/// Checks every rule a manifest must satisfy: the schema version, names (non-empty, at most
/// `NAME_MAX` bytes, unique among binaries, among services and within one service's grants),
/// services naming ELF binaries, blob grants naming binaries, text grants within
/// `GRANT_TEXT_MAX`, at most a CapSet page of grants, a service named init, and the endpoint
/// graph: export names unique within a service, every import naming a real export, init in
/// neither. A cycle (a imports from b, b from a) is allowed: init makes every endpoint before it
/// spawns anything, so no export waits for another.
pub fn validate(m: &Manifest<'_>) -> Result<(), ManifestError> {
    if m.schema_version != MANIFEST_SCHEMA_VERSION {
        return Err(error("schemaVersion", ManifestErrorKind::SchemaVersion { found: m.schema_version }));
    }
    for (i, b) in m.binaries.iter().enumerate() {
        let path = keyed_path("binaries", i, b.name);
        check_name(&path, b.name)?;
        if m.binaries[..i].iter().any(|other| other.name == b.name) {
            return Err(error(path, ManifestErrorKind::Duplicate(b.name.into())));
        }
        if b.kind == BinaryKind::Elf && !b.data.starts_with(b"\x7fELF") {
            return Err(error(format!("binaries.{}.data", b.name), ManifestErrorKind::BadElfMagic));
        }
    }
    for (i, s) in m.services.iter().enumerate() {
        validate_service(m, &format!("initConfig.services[{i}]"), s)?;
        if m.services[..i].iter().any(|other| other.name == s.name) {
            let path = format!("initConfig.services[{i}].name");
            return Err(error(path, ManifestErrorKind::Duplicate(s.name.into())));
        }
    }
    if m.service(INIT).is_none() {
        return Err(error("initConfig.services", ManifestErrorKind::NoInit));
    }
    crate::supervision::validate_order(m)?;
    for (i, d) in m.devices.iter().enumerate() {
        let path = keyed_path("devices", i, d.name);
        check_name(&path, d.name)?;
        if m.devices[..i].iter().any(|other| other.name == d.name) {
            return Err(error(path, ManifestErrorKind::Duplicate(d.name.into())));
        }
        if d.vendor == 0 || d.vendor == 0xffff {
            return Err(error(format!("{path}.vendor"), ManifestErrorKind::BadVendor(d.vendor)));
        }
        if d.dma_bytes > DMA_BYTES_MAX {
            return Err(error(format!("{path}.dmaBytes"), ManifestErrorKind::DmaTooLarge(d.dma_bytes)));
        }
    }
    Ok(())
}

fn validate_service(m: &Manifest<'_>, path: &str, s: &Service<'_>) -> Result<(), ManifestError> {
    check_name(&format!("{path}.name"), s.name)?;
    let binary_path = format!("{path}.binary");
    match m.binary(s.binary) {
        None => return Err(error(binary_path, ManifestErrorKind::UnknownBinary(s.binary.into()))),
        Some(b) if b.kind != BinaryKind::Elf => {
            return Err(error(binary_path, ManifestErrorKind::NotElf(s.binary.into())))
        }
        Some(_) => {}
    }
    if s.grants.len() > capset::MAX_ENTRIES {
        return Err(error(format!("{path}.grants"), ManifestErrorKind::TooManyGrants { count: s.grants.len() }));
    }
    for (j, g) in s.grants.iter().enumerate() {
        let grant_path = keyed_path(&format!("{path}.grants"), j, g.name);
        check_name(&grant_path, g.name)?;
        if s.grants[..j].iter().any(|other| other.name == g.name) {
            return Err(error(grant_path, ManifestErrorKind::Duplicate(g.name.into())));
        }
        if s.name == INIT && matches!(g.source, GrantSource::Export(_) | GrantSource::Import(_)) {
            return Err(error(grant_path, ManifestErrorKind::InitEndpoint));
        }
        match g.source {
            GrantSource::Kernel(KernelCap::Devices) => {
                return Err(error(format!("{grant_path}.kernel"), ManifestErrorKind::WholeDeviceTable));
            }
            GrantSource::Device(name) if !m.devices.iter().any(|d| d.name == name) => {
                return Err(error(format!("{grant_path}.device"), ManifestErrorKind::UnknownDevice(name.into())));
            }
            GrantSource::Kernel(_) | GrantSource::Device(_) => {}
            GrantSource::Export(name) => {
                let export_path = format!("{grant_path}.export");
                if name.is_empty() || name.len() > NAME_MAX || name.contains('.') {
                    return Err(error(export_path, ManifestErrorKind::BadExportName(name.into())));
                }
                if s.grants[..j].iter().any(|other| other.source == GrantSource::Export(name)) {
                    return Err(error(export_path, ManifestErrorKind::DuplicateExport(name.into())));
                }
            }
            GrantSource::Import(import) => validate_import(m, &format!("{grant_path}.import"), import)?,
            GrantSource::Blob(name) if m.binary(name).is_none() => {
                return Err(error(format!("{grant_path}.blob"), ManifestErrorKind::UnknownBlob(name.into())));
            }
            GrantSource::Blob(_) => {}
            GrantSource::Text(t) if t.len() > GRANT_TEXT_MAX => {
                return Err(error(format!("{grant_path}.text"), ManifestErrorKind::TextTooLong { len: t.len() }));
            }
            GrantSource::Text(_) => {}
        }
    }
    crate::supervision::validate(m, path, s)
}

/// An import must name `<service>.<export>` of a service that has that export grant.
fn validate_import(m: &Manifest<'_>, path: &str, import: &str) -> Result<(), ManifestError> {
    let Some((service, export)) = split_import(import) else {
        return Err(error(path, ManifestErrorKind::BadImport(import.into())));
    };
    let Some(exporter) = m.service(service) else {
        return Err(error(
            path,
            ManifestErrorKind::ImportUnknownService { import: import.into(), service: service.into() },
        ));
    };
    if !exporter.grants.iter().any(|g| g.source == GrantSource::Export(export)) {
        return Err(error(
            path,
            ManifestErrorKind::ImportUnknownExport { import: import.into(), service: service.into() },
        ));
    }
    Ok(())
}
// endregion: validate

/// Serializes a manifest (mkmanifest's output, and test manifests for kernel and init tests).
pub fn encode(m: &Manifest<'_>) -> Vec<u8> {
    let mut message = capnp::message::Builder::new_default();
    let mut root = message.init_root::<system_manifest::Builder>();
    root.set_schema_version(m.schema_version);
    let mut binaries = root.reborrow().init_binaries(m.binaries.len() as u32);
    for (i, b) in m.binaries.iter().enumerate() {
        let mut out = binaries.reborrow().get(i as u32);
        out.set_name(b.name);
        out.set_kind(match b.kind {
            BinaryKind::Elf => binary::Kind::Elf,
            BinaryKind::Blob => binary::Kind::Blob,
        });
        out.set_data(b.data);
    }
    let mut services = root.reborrow().init_init_config().init_services(m.services.len() as u32);
    for (i, s) in m.services.iter().enumerate() {
        let mut out = services.reborrow().get(i as u32);
        out.set_name(s.name);
        out.set_binary(s.binary);
        let mut grants = out.reborrow().init_grants(s.grants.len() as u32);
        for (j, g) in s.grants.iter().enumerate() {
            let mut grant = grants.reborrow().get(j as u32);
            grant.set_name(g.name);
            let mut source = grant.init_source();
            match g.source {
                GrantSource::Kernel(cap) => source.set_kernel(cap.name()),
                GrantSource::Blob(name) => source.set_blob(name),
                GrantSource::Text(t) => source.set_text(t),
                GrantSource::Export(name) => source.set_export(name),
                GrantSource::Import(import) => source.set_import(import),
                GrantSource::Device(name) => source.set_device(name),
            }
        }
        crate::supervision::encode(&s.supervision, out);
    }
    root.reborrow().init_kernel_params().set_trace_errors(m.kernel_params.trace_errors);
    let mut devices = root.init_devices(m.devices.len() as u32);
    for (i, d) in m.devices.iter().enumerate() {
        let mut out = devices.reborrow().get(i as u32);
        out.set_name(d.name);
        out.set_vendor(d.vendor);
        out.set_device(d.device);
        out.set_class(d.class);
        out.set_interrupt(d.interrupt);
        out.set_dma_bytes(d.dma_bytes);
    }
    wire::to_bytes(&message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::AlignedBuf;

    const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0rest";

    fn sample() -> Manifest<'static> {
        Manifest {
            schema_version: MANIFEST_SCHEMA_VERSION,
            binaries: alloc::vec![
                Binary { name: "init", kind: BinaryKind::Elf, data: ELF },
                Binary { name: "hello", kind: BinaryKind::Elf, data: ELF },
                Binary { name: "words", kind: BinaryKind::Blob, data: b"some words" },
            ],
            services: alloc::vec![
                Service {
                    name: "init",
                    binary: "init",
                    grants: alloc::vec![
                        Grant { name: "console", source: GrantSource::Kernel(KernelCap::Console) },
                        Grant { name: "spawner", source: GrantSource::Kernel(KernelCap::Spawner) },
                    ],
                    supervision: Supervision::default(),
                },
                Service {
                    name: "hello",
                    binary: "hello",
                    grants: alloc::vec![
                        Grant { name: "console", source: GrantSource::Kernel(KernelCap::Console) },
                        Grant { name: "data", source: GrantSource::Blob("words") },
                        Grant { name: "args", source: GrantSource::Text("a b c") },
                    ],
                    supervision: Supervision::default(),
                },
            ],
            kernel_params: KernelParams { trace_errors: true },
            devices: alloc::vec![DeviceSpec {
                name: "blk0",
                vendor: 0x1af4,
                device: 0,
                class: 1,
                interrupt: true,
                dma_bytes: 4096
            }],
        }
    }

    fn round_trip(m: &Manifest<'_>) -> Result<(), ManifestError> {
        let bytes = AlignedBuf::copy_from(&encode(m));
        let message = read(&bytes)?;
        let decoded = decode(&message)?;
        assert_eq!(&decoded, m);
        Ok(())
    }

    fn expect_err(m: &Manifest<'_>, path: &str, kind: ManifestErrorKind) {
        let err = validate(m).unwrap_err();
        assert_eq!(err, ManifestError { path: path.into(), kind });
        // The packed form is refused with the same error on the reading side.
        let bytes = AlignedBuf::copy_from(&encode(m));
        let message = read(&bytes).unwrap();
        assert_eq!(decode(&message).unwrap_err().path, path);
    }

    #[test]
    fn valid_manifest_round_trips() {
        round_trip(&sample()).unwrap();
        let m = sample();
        assert_eq!(m.children().map(|s| s.name).collect::<Vec<_>>(), ["hello"]);
    }

    #[test]
    fn wrong_schema_version_is_refused() {
        let mut m = sample();
        m.schema_version = 7;
        expect_err(&m, "schemaVersion", ManifestErrorKind::SchemaVersion { found: 7 });
    }

    #[test]
    fn unknown_blob_names_the_grant() {
        let mut m = sample();
        m.services[1].grants[1].source = GrantSource::Blob("nope");
        expect_err(&m, "initConfig.services[1].grants.data.blob", ManifestErrorKind::UnknownBlob("nope".into()));
    }

    #[test]
    fn oversized_text_names_the_grant() {
        let long = "x".repeat(GRANT_TEXT_MAX + 1);
        let mut m = sample();
        m.services[1].grants[2].source = GrantSource::Text(&long);
        expect_err(
            &m,
            "initConfig.services[1].grants.args.text",
            ManifestErrorKind::TextTooLong { len: GRANT_TEXT_MAX + 1 },
        );
        let exact = "x".repeat(GRANT_TEXT_MAX);
        m.services[1].grants[2].source = GrantSource::Text(&exact);
        round_trip(&m).unwrap();
    }

    #[test]
    fn service_binary_must_exist_and_be_elf() {
        let mut m = sample();
        m.services[1].binary = "missing";
        expect_err(&m, "initConfig.services[1].binary", ManifestErrorKind::UnknownBinary("missing".into()));
        m.services[1].binary = "words";
        expect_err(&m, "initConfig.services[1].binary", ManifestErrorKind::NotElf("words".into()));
    }

    #[test]
    fn elf_binaries_need_the_magic() {
        let mut m = sample();
        m.binaries[1].data = b"#!/bin/sh";
        expect_err(&m, "binaries.hello.data", ManifestErrorKind::BadElfMagic);
    }

    #[test]
    fn init_is_mandatory() {
        let mut m = sample();
        m.services.remove(0);
        expect_err(&m, "initConfig.services", ManifestErrorKind::NoInit);
    }

    #[test]
    fn duplicates_and_bad_names_are_refused() {
        let mut m = sample();
        m.services[1].grants[1].name = "console";
        expect_err(&m, "initConfig.services[1].grants.console", ManifestErrorKind::Duplicate("console".into()));
        let mut m = sample();
        m.services[1].name = "init";
        expect_err(&m, "initConfig.services[1].name", ManifestErrorKind::Duplicate("init".into()));
        let mut m = sample();
        m.binaries[2].name = "hello";
        expect_err(&m, "binaries.hello", ManifestErrorKind::Duplicate("hello".into()));
        let long = "n".repeat(NAME_MAX + 1);
        let mut m = sample();
        m.services[1].grants[0].name = &long;
        expect_err(
            &m,
            &format!("initConfig.services[1].grants.{long}"),
            ManifestErrorKind::NameTooLong { len: NAME_MAX + 1 },
        );
        let mut m = sample();
        m.services[1].name = "";
        expect_err(&m, "initConfig.services[1].name", ManifestErrorKind::EmptyName);
    }

    #[test]
    fn too_many_grants_are_refused() {
        let names: Vec<String> = (0..=capset::MAX_ENTRIES).map(|i| format!("g{i}")).collect();
        let mut m = sample();
        m.services[1].grants =
            names.iter().map(|n| Grant { name: n, source: GrantSource::Kernel(KernelCap::Timer) }).collect();
        expect_err(
            &m,
            "initConfig.services[1].grants",
            ManifestErrorKind::TooManyGrants { count: capset::MAX_ENTRIES + 1 },
        );
    }

    #[test]
    fn unknown_kernel_cap_in_the_message_is_refused() {
        // Build the message by hand: the Manifest type cannot hold an unknown kernel cap.
        let mut message = capnp::message::Builder::new_default();
        let mut root = message.init_root::<system_manifest::Builder>();
        root.set_schema_version(MANIFEST_SCHEMA_VERSION);
        let mut svc = root.reborrow().init_init_config().init_services(1).get(0);
        svc.set_name("init");
        svc.set_binary("init");
        let mut g = svc.init_grants(1).get(0);
        g.set_name("net");
        g.init_source().set_kernel("network");
        let bytes = AlignedBuf::copy_from(&wire::to_bytes(&message));
        let reader = read(&bytes).unwrap();
        let err = decode(&reader).unwrap_err();
        assert_eq!(err.path, "initConfig.services[0].grants.net.kernel");
        assert_eq!(
            format!("{err}"),
            "initConfig.services[0].grants.net.kernel: unknown kernel cap \"network\" (allowed: console, timer, entropy, bootPackage, spawner, devices, wallclock, vmem)"
        );
    }

    /// `sample()` plus a server exporting `echo` and a client importing it.
    fn wired() -> Manifest<'static> {
        let mut m = sample();
        let console = Grant { name: "console", source: GrantSource::Kernel(KernelCap::Console) };
        m.services.push(Service {
            name: "echo.server",
            binary: "hello",
            grants: alloc::vec![console, Grant { name: "serve", source: GrantSource::Export("echo") }],
            supervision: Supervision::default(),
        });
        m.services.push(Service {
            name: "client",
            binary: "hello",
            grants: alloc::vec![console, Grant { name: "echo", source: GrantSource::Import("echo.server.echo") }],
            supervision: Supervision::default(),
        });
        m
    }

    #[test]
    fn exports_and_imports_round_trip() {
        let m = wired();
        round_trip(&m).unwrap();
        assert_eq!(m.exports().collect::<Vec<_>>(), [("echo.server", "echo")]);
        assert_eq!(split_import("echo.server.echo"), Some(("echo.server", "echo")));
        assert_eq!(split_import("echo"), None);
        assert_eq!(split_import(".echo"), None);
        assert_eq!(split_import("server."), None);
    }

    #[test]
    fn imports_must_name_a_real_export() {
        let mut m = wired();
        m.services[3].grants[1].source = GrantSource::Import("nobody.echo");
        expect_err(
            &m,
            "initConfig.services[3].grants.echo.import",
            ManifestErrorKind::ImportUnknownService { import: "nobody.echo".into(), service: "nobody".into() },
        );
        m.services[3].grants[1].source = GrantSource::Import("echo.server.ping");
        expect_err(
            &m,
            "initConfig.services[3].grants.echo.import",
            ManifestErrorKind::ImportUnknownExport { import: "echo.server.ping".into(), service: "echo.server".into() },
        );
        m.services[3].grants[1].source = GrantSource::Import("echo");
        expect_err(&m, "initConfig.services[3].grants.echo.import", ManifestErrorKind::BadImport("echo".into()));
        // Importing from a service that has the name as a grant, but not as an export, is refused too.
        m.services[3].grants[1].source = GrantSource::Import("echo.server.console");
        assert!(matches!(validate(&m).unwrap_err().kind, ManifestErrorKind::ImportUnknownExport { .. }));
    }

    #[test]
    fn exports_are_unique_and_well_named_and_init_has_none() {
        let mut m = wired();
        m.services[2].grants.push(Grant { name: "again", source: GrantSource::Export("echo") });
        expect_err(&m, "initConfig.services[2].grants.again.export", ManifestErrorKind::DuplicateExport("echo".into()));
        let mut m = wired();
        m.services[2].grants[1].source = GrantSource::Export("a.b");
        expect_err(&m, "initConfig.services[2].grants.serve.export", ManifestErrorKind::BadExportName("a.b".into()));
        let mut m = wired();
        m.services[0].grants.push(Grant { name: "echo", source: GrantSource::Import("echo.server.echo") });
        expect_err(&m, "initConfig.services[0].grants.echo", ManifestErrorKind::InitEndpoint);
        // A cycle is fine: every endpoint exists before any service starts.
        let mut m = wired();
        m.services[3].grants.push(Grant { name: "back", source: GrantSource::Export("back") });
        m.services[2].grants.push(Grant { name: "back", source: GrantSource::Import("client.back") });
        round_trip(&m).unwrap();
    }

    #[test]
    fn device_grants_name_a_listed_device_and_the_table_stays_with_init() {
        let mut m = sample();
        m.services[1].grants.push(Grant { name: "devices", source: GrantSource::Device("blk0") });
        round_trip(&m).unwrap();
        m.services[1].grants[3].source = GrantSource::Device("net0");
        expect_err(&m, "initConfig.services[1].grants.devices.device", ManifestErrorKind::UnknownDevice("net0".into()));
        m.services[1].grants[3].source = GrantSource::Kernel(KernelCap::Devices);
        expect_err(&m, "initConfig.services[1].grants.devices.kernel", ManifestErrorKind::WholeDeviceTable);
    }

    #[test]
    fn corrupted_bytes_never_panic() {
        let good = encode(&sample());
        // Flip each byte in turn (and truncate at each length): every outcome is Ok or Err.
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0xa5;
            let buf = AlignedBuf::copy_from(&bad);
            if let Ok(message) = read(&buf) {
                let _ = decode(&message);
            }
            let cut = AlignedBuf::copy_from(&good[..i]);
            if let Ok(message) = read(&cut) {
                let _ = decode(&message);
            }
        }
    }
}
