//! The store's Endpoint: one call at a time in arrival order. The badge a call arrives with
//! says which object it is for: 0 is the Store itself (the export's facet), any other a
//! Namespace or File the store minted. Release notices remove objects.
use crate::disk::BlockDisk;
use crate::objects::{Object, Objects};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_rt::abi::ring::{Transfer, XFER_MOVE};
use capos_rt::client::store::{method, MAX_IO};
use capos_rt::schema::capnp;
use capos_rt::schema::capos_capnp::{self as c, file, namespace, store, StoreError};
use capos_rt::schema::exception::ExceptionKind;
use capos_rt::schema::wire::{self, AlignedBuf};
use capos_rt::transport::RELEASED;
use capos_rt::{encode_params, Client, Console, Endpoint, EndpointOwner, Error, Incoming};
use capos_storefs::{FsError, Kind, OpenMode, Volume};

/// Params of the largest write plus framing.
const RECV_CAPACITY: usize = MAX_IO + 1024;

/// A call the store answers with an exception: the driver is gone, the disk failed, the params
/// are malformed, the method does not exist.
type Refusal = (ExceptionKind, String);

/// What a handled call answers: a result message, maybe with a new object's facet.
enum Answer {
    Plain(Vec<u8>),
    WithObject(Vec<u8>, Endpoint),
}

pub struct Server<'a> {
    pub vol: Volume<BlockDisk>,
    pub objects: Objects,
    pub ep: &'a EndpointOwner,
}

fn store_error(e: &FsError) -> Option<StoreError> {
    Some(match e {
        FsError::NotFound => StoreError::NotFound,
        FsError::Exists => StoreError::Exists,
        FsError::NotDir => StoreError::NotDir,
        FsError::IsDir => StoreError::IsDir,
        FsError::NotEmpty => StoreError::NotEmpty,
        FsError::ReadOnly => StoreError::ReadOnly,
        FsError::NoSpace => StoreError::NoSpace,
        FsError::InvalidName => StoreError::InvalidName,
        FsError::Corrupt => StoreError::Corrupt,
        FsError::Io(_) => return None,
    })
}

fn malformed(e: capnp::Error) -> Refusal {
    (ExceptionKind::InvalidArgument, format!("malformed params: {e}"))
}

// region: serve
impl Server<'_> {
    /// Serves until `clients` Store holders have said `done`.
    pub fn serve(&mut self, console: &Console, clients: u32) -> Result<(), Error> {
        let mut finished = 0;
        while finished < clients {
            let call = self.ep.recv_with_capacity(RECV_CAPACITY)?;
            if call.method == RELEASED {
                self.objects.remove(call.badge);
                continue;
            }
            if call.badge == 0 && call.method == method::DONE {
                finished += 1;
                self.ep.ret(
                    &call,
                    &encode_params(|m| {
                        m.init_root::<store::done_results::Builder>();
                    }),
                    &[],
                )?;
                continue;
            }
            let answer = match &self.vol.disk().gone {
                Some(why) => Err((ExceptionKind::Disconnected, format!("the block driver is gone: {why}"))),
                None => self.handle(&call),
            };
            self.answer(&call, answer)?;
        }
        console.write_line(&format!("all {clients} clients done; {} objects still open", self.objects.len()))?;
        Ok(())
    }

    fn answer(&mut self, call: &Incoming, answer: Result<Answer, Refusal>) -> Result<(), Error> {
        match answer {
            Ok(Answer::Plain(data)) => self.ep.ret(call, &data, &[]),
            Ok(Answer::WithObject(data, facet)) => {
                let moved = [Transfer { cap_id: facet.cap().id(), mode: XFER_MOVE }];
                // On success the facet is the caller's now; on failure dropping it releases it,
                // and the release notice frees its object.
                let r = self.ep.ret(call, &data, &moved);
                if r.is_ok() {
                    facet.into_cap().moved();
                }
                r
            }
            Err((kind, why)) => self.ep.ret_exception(call, kind, &why),
        }
    }

    fn handle(&mut self, call: &Incoming) -> Result<Answer, Refusal> {
        let buf = AlignedBuf::copy_from(&call.params);
        let msg = wire::read(&buf).map_err(|e| (ExceptionKind::InvalidArgument, format!("malformed params: {e}")))?;
        match call.badge {
            0 => self.store_call(call.method, &msg),
            badge => match self.objects.get(badge) {
                Some(Object::Namespace { dir, read_only }) => self.namespace_call(call.method, &msg, dir, read_only),
                Some(Object::File { node, read_only }) => self.file_call(call.method, &msg, node, read_only),
                None => Err((ExceptionKind::Disconnected, String::from("this object was released"))),
            },
        }
    }

    /// A disk failure is an exception (`disconnected` once the driver is gone); every other
    /// failure is an expected outcome.
    fn outcome<T>(&self, r: Result<T, FsError>) -> Result<Result<T, StoreError>, Refusal> {
        match r {
            Ok(v) => Ok(Ok(v)),
            Err(e) => match store_error(&e) {
                Some(se) => Ok(Err(se)),
                None => match &self.vol.disk().gone {
                    Some(why) => Err((ExceptionKind::Disconnected, format!("the block driver is gone: {why}"))),
                    None => Err((ExceptionKind::Failed, format!("{e}"))),
                },
            },
        }
    }

    /// Mints a facet for `object`: `tooMany` when the table is full.
    fn mint(&mut self, object: Object) -> Result<Result<Endpoint, StoreError>, Refusal> {
        let Some(badge) = self.objects.add(object) else { return Ok(Err(StoreError::TooMany)) };
        match self.ep.mint(badge) {
            Ok(facet) => Ok(Ok(facet)),
            Err(e) => {
                self.objects.remove(badge);
                Err((ExceptionKind::Failed, format!("mint: {e}")))
            }
        }
    }
}
// endregion: serve

/// A StoreResult answer, with the object's facet when there is one.
type Root = capnp::message::Builder<capnp::message::HeapAllocator>;

fn unit_answer(
    r: Result<Option<Endpoint>, StoreError>,
    result: impl for<'b> FnOnce(&'b mut Root) -> c::store_result::Builder<'b>,
) -> Answer {
    let mut facet = None;
    let data = encode_params(|m| {
        let mut b = result(m);
        match r {
            Ok(f) => {
                b.set_ok(());
                facet = f;
            }
            Err(e) => b.set_error(e),
        }
    });
    match facet {
        Some(f) => Answer::WithObject(data, f),
        None => Answer::Plain(data),
    }
}

fn put_stat(mut b: c::node_stat::Builder<'_>, st: capos_storefs::Stat) {
    b.set_kind(match st.kind {
        Kind::File => c::NodeKind::File,
        Kind::Dir => c::NodeKind::Dir,
    });
    b.set_size(st.size);
}

fn stat_answer(
    r: Result<capos_storefs::Stat, StoreError>,
    result: impl for<'b> FnOnce(&'b mut Root) -> c::stat_result::Builder<'b>,
) -> Answer {
    Answer::Plain(encode_params(|m| {
        let mut b = result(m);
        match r {
            Ok(st) => put_stat(b.init_ok(), st),
            Err(e) => b.set_error(e),
        }
    }))
}

fn size_answer(
    r: Result<u64, StoreError>,
    result: impl for<'b> FnOnce(&'b mut Root) -> c::size_result::Builder<'b>,
) -> Answer {
    Answer::Plain(encode_params(|m| {
        let mut b = result(m);
        match r {
            Ok(n) => b.set_ok(n),
            Err(e) => b.set_error(e),
        }
    }))
}

type Msg<'a> = capnp::message::Reader<capnp::serialize::BufferSegments<&'a [u8]>>;

fn text(t: capnp::Result<capnp::text::Reader<'_>>) -> Result<String, Refusal> {
    let t = t.map_err(malformed)?;
    t.to_str().map(String::from).map_err(|_| (ExceptionKind::InvalidArgument, String::from("path is not utf-8")))
}

impl Server<'_> {
    // region: store-methods
    fn store_call(&mut self, m: u16, _msg: &Msg<'_>) -> Result<Answer, Refusal> {
        match m {
            method::STATS => {
                let s = self.vol.stats();
                let objects = self.objects.len() as u64;
                Ok(Answer::Plain(encode_params(|msg| {
                    let mut r = msg.init_root::<store::stats_results::Builder>();
                    r.set_capacity(s.capacity);
                    r.set_free(s.free);
                    r.set_files(s.files);
                    r.set_dirs(s.dirs);
                    r.set_generation(s.generation);
                    r.set_objects(objects);
                })))
            }
            method::SYNC => {
                let r = self.vol.sync();
                let r = self.outcome(r)?.map(|()| None);
                Ok(unit_answer(r, |m| m.init_root::<store::sync_results::Builder>().init_result()))
            }
            method::ROOT => {
                let root = self.vol.root();
                let r = self.mint(Object::Namespace { dir: root, read_only: false })?.map(Some);
                Ok(unit_answer(r, |m| m.init_root::<store::root_results::Builder>().init_result()))
            }
            m => Err((ExceptionKind::Unimplemented, format!("Store has no method {m}"))),
        }
    }
    // endregion: store-methods

    // region: namespace-methods
    fn namespace_call(&mut self, m: u16, msg: &Msg<'_>, dir: u64, ro: bool) -> Result<Answer, Refusal> {
        let writes = matches!(m, method::MKDIR | method::REMOVE | method::RENAME);
        if writes && ro {
            return Ok(unit_answer(Err(StoreError::ReadOnly), |m| {
                m.init_root::<namespace::mkdir_results::Builder>().init_result()
            }));
        }
        match m {
            method::OPEN => {
                let p = msg.get_root::<namespace::open_params::Reader>().map_err(malformed)?;
                let path = text(p.get_path())?;
                let mode = p.get_mode().map_err(malformed)?;
                let mode = OpenMode {
                    write: mode.get_write(),
                    create: mode.get_create(),
                    exclusive: mode.get_exclusive(),
                    truncate: mode.get_truncate(),
                };
                // a read-only directory refuses every change; truncating needs write access too
                let r = if (ro && (mode.write || mode.create || mode.truncate)) || (mode.truncate && !mode.write) {
                    Ok(Err(StoreError::ReadOnly))
                } else {
                    let opened = self.vol.open(dir, &path, mode);
                    self.outcome(opened)
                }?;
                let r = match r {
                    Ok(node) => self.mint(Object::File { node, read_only: ro || !mode.write })?.map(Some),
                    Err(e) => Err(e),
                };
                Ok(unit_answer(r, |m| m.init_root::<namespace::open_results::Builder>().init_result()))
            }
            method::MKDIR => {
                let path = text(msg.get_root::<namespace::mkdir_params::Reader>().map_err(malformed)?.get_path())?;
                let r = self.vol.mkdir(dir, &path).map(|_| None);
                let r = self.outcome(r)?;
                Ok(unit_answer(r, |m| m.init_root::<namespace::mkdir_results::Builder>().init_result()))
            }
            method::LIST => {
                let path = text(msg.get_root::<namespace::list_params::Reader>().map_err(malformed)?.get_path())?;
                let r = self.vol.resolve(dir, &path).and_then(|n| self.vol.list(n));
                let r = self.outcome(r)?;
                Ok(Answer::Plain(encode_params(|msg| {
                    let mut b = msg.init_root::<namespace::list_results::Builder>().init_result();
                    match r {
                        Ok(entries) => {
                            let mut list = b.init_ok(entries.len() as u32);
                            for (i, (name, st)) in entries.iter().enumerate() {
                                let mut e = list.reborrow().get(i as u32);
                                e.set_name(name);
                                put_stat(e.init_stat(), *st);
                            }
                        }
                        Err(e) => b.set_error(e),
                    }
                })))
            }
            method::STAT => {
                let path = text(msg.get_root::<namespace::stat_params::Reader>().map_err(malformed)?.get_path())?;
                let r = self.vol.resolve(dir, &path).and_then(|n| self.vol.stat(n));
                let r = self.outcome(r)?;
                Ok(stat_answer(r, |m| m.init_root::<namespace::stat_results::Builder>().init_result()))
            }
            method::REMOVE => {
                let path = text(msg.get_root::<namespace::remove_params::Reader>().map_err(malformed)?.get_path())?;
                let r = self.vol.remove(dir, &path).map(|()| None);
                let r = self.outcome(r)?;
                Ok(unit_answer(r, |m| m.init_root::<namespace::remove_results::Builder>().init_result()))
            }
            method::RENAME => {
                let p = msg.get_root::<namespace::rename_params::Reader>().map_err(malformed)?;
                let (from, to) = (text(p.get_from())?, text(p.get_to())?);
                let r = self.vol.rename(dir, &from, &to).map(|()| None);
                let r = self.outcome(r)?;
                Ok(unit_answer(r, |m| m.init_root::<namespace::rename_results::Builder>().init_result()))
            }
            method::ATTENUATE => {
                let p = msg.get_root::<namespace::attenuate_params::Reader>().map_err(malformed)?;
                let path = text(p.get_path())?;
                let narrower = ro || p.get_read_only();
                let r = self.vol.resolve(dir, &path).and_then(|n| match self.vol.stat(n)?.kind {
                    Kind::Dir => Ok(n),
                    Kind::File => Err(FsError::NotDir),
                });
                let r = match self.outcome(r)? {
                    Ok(n) => self.mint(Object::Namespace { dir: n, read_only: narrower })?.map(Some),
                    Err(e) => Err(e),
                };
                Ok(unit_answer(r, |m| m.init_root::<namespace::attenuate_results::Builder>().init_result()))
            }
            m => Err((ExceptionKind::Unimplemented, format!("Namespace has no method {m}"))),
        }
    }
    // endregion: namespace-methods

    // region: file-methods
    fn file_call(&mut self, m: u16, msg: &Msg<'_>, node: u64, ro: bool) -> Result<Answer, Refusal> {
        match m {
            method::READ => {
                let p = msg.get_root::<file::read_params::Reader>().map_err(malformed)?;
                // A huge read is served short, like a read at the end of a file.
                let len = (p.get_len() as usize).min(MAX_IO);
                let r = self.vol.read(node, p.get_offset(), len);
                let r = self.outcome(r)?;
                Ok(Answer::Plain(encode_params(|msg| {
                    let mut b = msg.init_root::<file::read_results::Builder>().init_result();
                    match r {
                        Ok(d) => b.set_ok(&d),
                        Err(e) => b.set_error(e),
                    }
                })))
            }
            method::WRITE => {
                let p = msg.get_root::<file::write_params::Reader>().map_err(malformed)?;
                let r = if ro {
                    Ok(Err(StoreError::ReadOnly))
                } else {
                    let data = p.get_data().map_err(malformed)?;
                    let w = self.vol.write(node, p.get_offset(), data).map(|n| n as u64);
                    self.outcome(w)
                }?;
                Ok(size_answer(r, |m| m.init_root::<file::write_results::Builder>().init_result()))
            }
            method::SIZE => {
                let r = self.vol.stat(node).map(|s| s.size);
                let r = self.outcome(r)?;
                Ok(size_answer(r, |m| m.init_root::<file::size_results::Builder>().init_result()))
            }
            method::TRUNCATE => {
                let size = msg.get_root::<file::truncate_params::Reader>().map_err(malformed)?.get_size();
                let r = if ro {
                    Ok(Err(StoreError::ReadOnly))
                } else {
                    let t = self.vol.truncate(node, size).map(|()| None);
                    self.outcome(t)
                }?;
                Ok(unit_answer(r, |m| m.init_root::<file::truncate_results::Builder>().init_result()))
            }
            method::FILE_SYNC => {
                // One tree per volume: syncing a file commits the whole working generation.
                let r = if self.vol.exists(node) { self.vol.sync() } else { Err(FsError::NotFound) };
                let r = self.outcome(r)?.map(|()| None);
                Ok(unit_answer(r, |m| m.init_root::<file::sync_results::Builder>().init_result()))
            }
            method::FILE_STAT => {
                let r = self.vol.stat(node);
                let r = self.outcome(r)?;
                Ok(stat_answer(r, |m| m.init_root::<file::stat_results::Builder>().init_result()))
            }
            m => Err((ExceptionKind::Unimplemented, format!("File has no method {m}"))),
        }
    }
    // endregion: file-methods
}
