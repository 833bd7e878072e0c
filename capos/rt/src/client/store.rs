//! The store (appendix A.7): Store, Namespace and File, each an Endpoint client facet the store
//! process minted. Expected outcomes come back as `Ok(Err(StoreError))`; transport failures and
//! exceptions (a `disconnected` store) as `Err(Error)`.
use super::{params, Endpoint};
use crate::error::Error;
use crate::transport::Reply;
use alloc::string::String;
use alloc::vec::Vec;
use capos_schema::capos_capnp::{self as c, file, namespace, store};
pub use capos_schema::capos_capnp::{NodeKind, StoreError};

/// A call that reached the store: its answer, or the expected outcome it refused with.
pub type Outcome<T> = Result<Result<T, StoreError>, Error>;

/// The most a read or write carries.
pub const MAX_IO: usize = 16 * 1024;

/// Method ordinals (the schema's).
pub mod method {
    pub const STATS: u16 = 0;
    pub const SYNC: u16 = 1;
    pub const ROOT: u16 = 2;
    pub const DONE: u16 = 3;
    pub const OPEN: u16 = 0;
    pub const MKDIR: u16 = 1;
    pub const LIST: u16 = 2;
    pub const STAT: u16 = 3;
    pub const REMOVE: u16 = 4;
    pub const RENAME: u16 = 5;
    pub const ATTENUATE: u16 = 6;
    pub const READ: u16 = 0;
    pub const WRITE: u16 = 1;
    pub const SIZE: u16 = 2;
    pub const TRUNCATE: u16 = 3;
    pub const FILE_SYNC: u16 = 4;
    pub const FILE_STAT: u16 = 5;
}

/// The lowercase name of an outcome, as smokes print it.
pub fn error_name(e: StoreError) -> &'static str {
    match e {
        StoreError::NotFound => "notFound",
        StoreError::Exists => "exists",
        StoreError::NotDir => "notDir",
        StoreError::IsDir => "isDir",
        StoreError::NotEmpty => "notEmpty",
        StoreError::ReadOnly => "readOnly",
        StoreError::NoSpace => "noSpace",
        StoreError::InvalidName => "invalidName",
        StoreError::Corrupt => "corrupt",
        StoreError::TooMany => "tooMany",
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenMode {
    pub write: bool,
    pub create: bool,
    pub exclusive: bool,
    pub truncate: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeStat {
    pub kind: NodeKind,
    pub size: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreStats {
    pub capacity: u64,
    pub free: u64,
    pub files: u64,
    pub dirs: u64,
    pub generation: u64,
    pub objects: u64,
}

fn bad(e: capnp::NotInSchema) -> Error {
    Error::Decode(alloc::format!("{e}"))
}

fn stat_of(r: c::node_stat::Reader<'_>) -> Result<NodeStat, Error> {
    Ok(NodeStat { kind: r.get_kind().map_err(bad)?, size: r.get_size() })
}

// region: results
/// A StoreResult; `ok` carries the result cap, if the method gives one, as an Endpoint.
fn unit(r: c::store_result::Reader<'_>) -> Outcome<()> {
    match r.which().map_err(bad)? {
        c::store_result::Ok(()) => Ok(Ok(())),
        c::store_result::Error(e) => Ok(Err(e.map_err(bad)?)),
    }
}

/// The Endpoint of result-cap record 0 (after an `ok` that promises one).
fn cap_of(ep: &Endpoint, reply: &Reply) -> Result<Endpoint, Error> {
    ep.result_endpoint(reply, "the store's ok carried no Endpoint cap")
}

fn with_cap(ep: &Endpoint, reply: Reply, r: Outcome<()>) -> Outcome<Endpoint> {
    match r? {
        Ok(()) => Ok(Ok(cap_of(ep, &reply)?)),
        Err(e) => Ok(Err(e)),
    }
}
// endregion: results

/// The volume.
pub struct Store {
    ep: Endpoint,
}

impl Store {
    pub fn new(ep: Endpoint) -> Store {
        Store { ep }
    }

    pub fn stats(&self) -> Result<StoreStats, Error> {
        let reply = self.ep.call(method::STATS, &super::empty_params::<store::stats_params::Owned>(), &[])?;
        let msg = reply.payload.read()?;
        let r = msg.get_root::<store::stats_results::Reader>()?;
        Ok(StoreStats {
            capacity: r.get_capacity(),
            free: r.get_free(),
            files: r.get_files(),
            dirs: r.get_dirs(),
            generation: r.get_generation(),
            objects: r.get_objects(),
        })
    }

    /// Returns once everything written through any File of this volume is on the disk.
    pub fn sync(&self) -> Outcome<()> {
        let reply = self.ep.call(method::SYNC, &super::empty_params::<store::sync_params::Owned>(), &[])?;
        unit(reply.payload.read()?.get_root::<store::sync_results::Reader>()?.get_result()?)
    }

    pub fn root(&self) -> Outcome<Namespace> {
        let reply = self.ep.call(method::ROOT, &super::empty_params::<store::root_params::Owned>(), &[])?;
        let r = unit(reply.payload.read()?.get_root::<store::root_results::Reader>()?.get_result()?);
        Ok(with_cap(&self.ep, reply, r)?.map(|ep| Namespace { ep }))
    }

    pub fn done(&self) -> Result<(), Error> {
        self.ep.call(method::DONE, &super::empty_params::<store::done_params::Owned>(), &[]).map(|_| ())
    }
}

/// A directory subtree of the volume.
pub struct Namespace {
    ep: Endpoint,
}

impl Namespace {
    /// The Endpoint underneath (hostile tests call it with wrong methods on purpose).
    pub fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    pub fn from_endpoint(ep: Endpoint) -> Namespace {
        Namespace { ep }
    }

    /// Calls method `m` with params of type `P` filled in by `fill`.
    fn path_call<P: capnp::traits::Owned>(&self, m: u16, fill: impl FnOnce(P::Builder<'_>)) -> Result<Reply, Error> {
        let p = params(|msg| fill(msg.init_root::<P::Builder<'_>>()));
        let capacity = if m == method::LIST { capos_abi::MAX_MSG - 1024 } else { super::endpoint::DEFAULT_CAPACITY };
        self.ep.call_with_capacity(m, &p, &[], capacity)
    }

    pub fn open(&self, path: &str, mode: OpenMode) -> Outcome<File> {
        let reply = self.path_call::<namespace::open_params::Owned>(method::OPEN, |mut r| {
            r.set_path(path);
            let mut m = r.init_mode();
            m.set_write(mode.write);
            m.set_create(mode.create);
            m.set_exclusive(mode.exclusive);
            m.set_truncate(mode.truncate);
        })?;
        let r = unit(reply.payload.read()?.get_root::<namespace::open_results::Reader>()?.get_result()?);
        Ok(with_cap(&self.ep, reply, r)?.map(|ep| File { ep }))
    }

    pub fn mkdir(&self, path: &str) -> Outcome<()> {
        let reply = self.path_call::<namespace::mkdir_params::Owned>(method::MKDIR, |mut r| r.set_path(path))?;
        unit(reply.payload.read()?.get_root::<namespace::mkdir_results::Reader>()?.get_result()?)
    }

    pub fn list(&self, path: &str) -> Outcome<Vec<(String, NodeStat)>> {
        let reply = self.path_call::<namespace::list_params::Owned>(method::LIST, |mut r| r.set_path(path))?;
        let msg = reply.payload.read()?;
        let r = msg.get_root::<namespace::list_results::Reader>()?.get_result()?;
        match r.which().map_err(bad)? {
            c::list_result::Ok(list) => {
                let mut out = Vec::new();
                for e in list?.iter() {
                    out.push((
                        String::from(e.get_name()?.to_str().map_err(|_| Error::BadReply("name is not utf-8"))?),
                        stat_of(e.get_stat()?)?,
                    ));
                }
                Ok(Ok(out))
            }
            c::list_result::Error(e) => Ok(Err(e.map_err(bad)?)),
        }
    }

    pub fn stat(&self, path: &str) -> Outcome<NodeStat> {
        let reply = self.path_call::<namespace::stat_params::Owned>(method::STAT, |mut r| r.set_path(path))?;
        let msg = reply.payload.read()?;
        stat_result(msg.get_root::<namespace::stat_results::Reader>()?.get_result()?)
    }

    pub fn remove(&self, path: &str) -> Outcome<()> {
        let reply = self.path_call::<namespace::remove_params::Owned>(method::REMOVE, |mut r| r.set_path(path))?;
        unit(reply.payload.read()?.get_root::<namespace::remove_results::Reader>()?.get_result()?)
    }

    pub fn rename(&self, from: &str, to: &str) -> Outcome<()> {
        let reply = self.path_call::<namespace::rename_params::Owned>(method::RENAME, |mut r| {
            r.set_from(from);
            r.set_to(to);
        })?;
        unit(reply.payload.read()?.get_root::<namespace::rename_results::Reader>()?.get_result()?)
    }

    /// The subtree at `path`, read-only if asked (a read-only Namespace never grants writing).
    pub fn attenuate(&self, path: &str, read_only: bool) -> Outcome<Namespace> {
        let reply = self.path_call::<namespace::attenuate_params::Owned>(method::ATTENUATE, |mut r| {
            r.set_path(path);
            r.set_read_only(read_only);
        })?;
        let r = unit(reply.payload.read()?.get_root::<namespace::attenuate_results::Reader>()?.get_result()?);
        Ok(with_cap(&self.ep, reply, r)?.map(|ep| Namespace { ep }))
    }
}

fn stat_result(r: c::stat_result::Reader<'_>) -> Outcome<NodeStat> {
    match r.which().map_err(bad)? {
        c::stat_result::Ok(s) => Ok(Ok(stat_of(s?)?)),
        c::stat_result::Error(e) => Ok(Err(e.map_err(bad)?)),
    }
}

fn size_result(r: c::size_result::Reader<'_>) -> Outcome<u64> {
    match r.which().map_err(bad)? {
        c::size_result::Ok(n) => Ok(Ok(n)),
        c::size_result::Error(e) => Ok(Err(e.map_err(bad)?)),
    }
}

/// One open file.
pub struct File {
    ep: Endpoint,
}

impl File {
    pub fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    pub fn from_endpoint(ep: Endpoint) -> File {
        File { ep }
    }

    /// Up to `len` bytes at `offset` (the store gives at most [`MAX_IO`]).
    pub fn read(&self, offset: u64, len: u32) -> Outcome<Vec<u8>> {
        let p = params(|m| {
            let mut r = m.init_root::<file::read_params::Builder>();
            r.set_offset(offset);
            r.set_len(len);
        });
        let reply = self.ep.call_with_capacity(method::READ, &p, &[], MAX_IO + 512)?;
        let msg = reply.payload.read()?;
        match msg.get_root::<file::read_results::Reader>()?.get_result()?.which().map_err(bad)? {
            c::data_result::Ok(d) => Ok(Ok(d?.to_vec())),
            c::data_result::Error(e) => Ok(Err(e.map_err(bad)?)),
        }
    }

    pub fn write(&self, offset: u64, data: &[u8]) -> Outcome<u64> {
        let p = params(|m| {
            let mut r = m.init_root::<file::write_params::Builder>();
            r.set_offset(offset);
            r.set_data(data);
        });
        let reply = self.ep.call(method::WRITE, &p, &[])?;
        size_result(reply.payload.read()?.get_root::<file::write_results::Reader>()?.get_result()?)
    }

    pub fn size(&self) -> Outcome<u64> {
        let reply = self.ep.call(method::SIZE, &super::empty_params::<file::size_params::Owned>(), &[])?;
        size_result(reply.payload.read()?.get_root::<file::size_results::Reader>()?.get_result()?)
    }

    pub fn truncate(&self, size: u64) -> Outcome<()> {
        let p = params(|m| m.init_root::<file::truncate_params::Builder>().set_size(size));
        let reply = self.ep.call(method::TRUNCATE, &p, &[])?;
        unit(reply.payload.read()?.get_root::<file::truncate_results::Reader>()?.get_result()?)
    }

    /// Returns once this file (and, the format being one tree, the whole volume) is on the disk.
    pub fn sync(&self) -> Outcome<()> {
        let reply = self.ep.call(method::FILE_SYNC, &super::empty_params::<file::sync_params::Owned>(), &[])?;
        unit(reply.payload.read()?.get_root::<file::sync_results::Reader>()?.get_result()?)
    }

    pub fn stat(&self) -> Outcome<NodeStat> {
        let reply = self.ep.call(method::FILE_STAT, &super::empty_params::<file::stat_params::Owned>(), &[])?;
        let msg = reply.payload.read()?;
        stat_result(msg.get_root::<file::stat_results::Reader>()?.get_result()?)
    }
}
