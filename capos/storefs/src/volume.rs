//! A mounted volume: the working (uncommitted) generation in memory, its new blocks on the disk,
//! and the two newest committed generations pinned until a sync commits the next one.
use crate::crc::crc32c;
use crate::disk::{Disk, SECTOR};
use crate::error::{FsError, MountError};
use crate::layout::{Superblock, BLOCK, MAX_META, MIN_BLOCKS, SECTORS_PER_BLOCK};
use crate::meta::{BlockRef, Kind, Meta, Node, NodeId, ROOT};
use crate::path;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// How an open creates or truncates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenMode {
    pub write: bool,
    pub create: bool,
    pub exclusive: bool,
    pub truncate: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub kind: Kind,
    pub size: u64,
}

/// What mount found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountReport {
    pub generation: u64,
    /// A blank disk was formatted.
    pub formatted: bool,
    /// A newer generation was refused, and why (it is then overwritten by the next sync).
    pub rolled_back: Option<(u64, String)>,
    /// Blocks of the mounted generation that fail their checksum: never served.
    pub bad_blocks: Vec<u32>,
}

/// Volume-wide figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VolumeStats {
    pub capacity: u64,
    pub free: u64,
    pub files: u64,
    pub dirs: u64,
    pub generation: u64,
}

pub struct Volume<D: Disk> {
    disk: D,
    total: u32,
    generation: u64,
    meta: Meta,
    /// Blocks of the committed generation, of the one before it, and of the working one that
    /// are not in either (written since the last sync; overwritten in place until it commits).
    cur: BTreeSet<u32>,
    prev: BTreeSet<u32>,
    dirty: BTreeSet<u32>,
    bad: BTreeSet<u32>,
    changed: bool,
    cursor: u32,
}

/// One generation as read at mount.
struct Candidate {
    sb: Superblock,
    meta: Meta,
}

impl<D: Disk> Volume<D> {
    // region: mount
    /// Mounts the newest generation whose superblock, metadata and data blocks all pass their
    /// checksums; else the one before it; else the newest with sound metadata, its bad blocks
    /// quarantined. A blank disk (both superblock sectors zero) is formatted.
    pub fn mount(mut disk: D) -> Result<(Volume<D>, MountReport), MountError> {
        let blocks = disk.sectors() / SECTORS_PER_BLOCK;
        if blocks < MIN_BLOCKS {
            return Err(MountError::TooSmall(disk.sectors()));
        }
        let mut head = [0u8; 2 * SECTOR];
        disk.read(0, &mut head).map_err(MountError::Io)?;
        if head.iter().all(|&b| b == 0) {
            return Self::format(disk, blocks.min(u32::MAX as u64) as u32);
        }
        let mut slots: Vec<Superblock> = (0..2)
            .filter_map(|i| Superblock::decode(head[i * SECTOR..(i + 1) * SECTOR].try_into().ok()?, blocks))
            .collect();
        slots.sort_by_key(|sb| core::cmp::Reverse(sb.generation));
        let mut refused: Option<(u64, String)> = None;
        let mut loaded: Vec<(Candidate, Vec<u32>)> = Vec::new();
        for sb in slots {
            let generation = sb.generation;
            match Self::load(&mut disk, sb) {
                Ok(c) => {
                    let bad = Self::scrub(&mut disk, &c.meta).map_err(MountError::Io)?;
                    loaded.push((c, bad));
                }
                Err(why) => {
                    refused.get_or_insert((generation, why));
                }
            }
        }
        // The newest fully sound generation; failing that, the newest loadable one.
        let pick = loaded.iter().position(|(_, bad)| bad.is_empty()).or(if loaded.is_empty() { None } else { Some(0) });
        let Some(pick) = pick else { return Err(MountError::NoValidSuperblock) };
        if pick > 0 {
            let (c, bad) = &loaded[0];
            refused = Some((c.sb.generation, format!("{} data blocks fail their checksums", bad.len())));
        }
        let prev = loaded.get(pick + 1).map(|(c, _)| Self::referenced(c)).unwrap_or_default();
        let (chosen, bad) = loaded.swap_remove(pick);
        let rolled_back = refused.filter(|(g, _)| *g > chosen.sb.generation);
        let report =
            MountReport { generation: chosen.sb.generation, formatted: false, rolled_back, bad_blocks: bad.clone() };
        let volume = Volume {
            disk,
            total: chosen.sb.total_blocks,
            generation: chosen.sb.generation,
            cur: Self::referenced(&chosen),
            prev,
            dirty: BTreeSet::new(),
            bad: bad.into_iter().collect(),
            changed: false,
            cursor: 1,
            meta: chosen.meta,
        };
        Ok((volume, report))
    }

    /// Reads and checks one generation's metadata.
    fn load(disk: &mut D, sb: Superblock) -> Result<Candidate, String> {
        let mut blob = vec![0u8; sb.meta.len() * BLOCK];
        for (i, &b) in sb.meta.iter().enumerate() {
            disk.read(b as u64 * SECTORS_PER_BLOCK, &mut blob[i * BLOCK..(i + 1) * BLOCK])?;
        }
        blob.truncate(sb.meta_len as usize);
        if crc32c(&blob) != sb.meta_crc {
            return Err(String::from("its metadata fails its checksum"));
        }
        let meta = Meta::decode(&blob, sb.total_blocks, sb.next_node).map_err(String::from)?;
        if sb.meta.iter().any(|m| meta.blocks().any(|b| b == *m)) {
            return Err(String::from("a metadata block is also a data block"));
        }
        Ok(Candidate { sb, meta })
    }

    /// The data blocks of `meta` whose checksum fails.
    fn scrub(disk: &mut D, meta: &Meta) -> Result<Vec<u32>, String> {
        let mut bad = Vec::new();
        let mut buf = vec![0u8; BLOCK];
        for node in meta.nodes.values() {
            if let Node::File { blocks, .. } = node {
                for r in blocks.iter().filter(|r| r.block != 0) {
                    disk.read(r.block as u64 * SECTORS_PER_BLOCK, &mut buf)?;
                    if crc32c(&buf) != r.crc {
                        bad.push(r.block);
                    }
                }
            }
        }
        Ok(bad)
    }

    fn referenced(c: &Candidate) -> BTreeSet<u32> {
        c.meta.blocks().chain(c.sb.meta.iter().copied()).collect()
    }

    /// A fresh volume of `total` blocks: generation 1 with an empty root, committed.
    fn format(disk: D, total: u32) -> Result<(Volume<D>, MountReport), MountError> {
        let mut v = Volume {
            disk,
            total,
            generation: 0,
            meta: Meta::empty(),
            cur: BTreeSet::new(),
            prev: BTreeSet::new(),
            dirty: BTreeSet::new(),
            bad: BTreeSet::new(),
            changed: true,
            cursor: 1,
        };
        v.sync().map_err(|e| MountError::Io(format!("{e}")))?;
        let report =
            MountReport { generation: v.generation, formatted: true, rolled_back: None, bad_blocks: Vec::new() };
        Ok((v, report))
    }
    // endregion: mount

    // region: commit
    /// Commits the working generation: its metadata to fresh blocks, a flush (every block the
    /// new superblock names is now durable), the superblock into the older slot, a flush.
    /// Returns only once the new generation is on the disk. Nothing changed: nothing written.
    pub fn sync(&mut self) -> Result<(), FsError> {
        if !self.changed {
            return Ok(());
        }
        let blob = self.meta.encode();
        let count = blob.len().div_ceil(BLOCK).max(1);
        if count > MAX_META {
            return Err(FsError::NoSpace);
        }
        let mut meta_blocks = Vec::with_capacity(count);
        for i in 0..count {
            let b = self.allocate()?;
            meta_blocks.push(b);
            let mut buf = vec![0u8; BLOCK];
            let end = blob.len().min((i + 1) * BLOCK);
            buf[..end - i * BLOCK].copy_from_slice(&blob[i * BLOCK..end]);
            self.write_block(b, &buf)?;
        }
        self.disk.flush().map_err(FsError::Io)?;
        let generation = self.generation + 1;
        let sb = Superblock {
            total_blocks: self.total,
            generation,
            next_node: self.meta.next_node,
            meta_len: blob.len() as u32,
            meta_crc: crc32c(&blob),
            meta: meta_blocks.clone(),
        };
        self.disk.write(Superblock::slot(generation), &sb.encode()).map_err(FsError::Io)?;
        self.disk.flush().map_err(FsError::Io)?;
        let now: BTreeSet<u32> = self.meta.blocks().chain(meta_blocks).collect();
        self.prev = core::mem::replace(&mut self.cur, now);
        self.dirty.clear();
        self.generation = generation;
        self.changed = false;
        Ok(())
    }
    // endregion: commit

    // region: blocks
    /// A block free in the working generation and in both committed ones; it joins `dirty`.
    fn allocate(&mut self) -> Result<u32, FsError> {
        for i in 0..self.total {
            let b = 1 + (self.cursor - 1 + i) % (self.total - 1);
            if !self.cur.contains(&b) && !self.prev.contains(&b) && !self.dirty.contains(&b) && !self.bad.contains(&b) {
                self.cursor = b;
                self.dirty.insert(b);
                return Ok(b);
            }
        }
        Err(FsError::NoSpace)
    }

    fn write_block(&mut self, b: u32, data: &[u8]) -> Result<(), FsError> {
        self.disk.write(b as u64 * SECTORS_PER_BLOCK, data).map_err(FsError::Io)
    }

    /// Block `r` of a file, checked against its CRC (a hole reads as zeros).
    fn read_ref(&mut self, r: BlockRef) -> Result<Vec<u8>, FsError> {
        let mut buf = vec![0u8; BLOCK];
        if r.block == 0 {
            return Ok(buf);
        }
        if self.bad.contains(&r.block) {
            return Err(FsError::Corrupt);
        }
        self.disk.read(r.block as u64 * SECTORS_PER_BLOCK, &mut buf).map_err(FsError::Io)?;
        if crc32c(&buf) != r.crc {
            self.bad.insert(r.block);
            return Err(FsError::Corrupt);
        }
        Ok(buf)
    }

    /// Gives back a working-generation block that nothing references any more.
    fn forget(&mut self, r: BlockRef) {
        self.dirty.remove(&r.block);
    }
    // endregion: blocks

    // region: names
    /// The node `path` names below directory `base`.
    pub fn resolve(&self, base: NodeId, path: &str) -> Result<NodeId, FsError> {
        let mut at = base;
        for name in path::components(path)? {
            at = self.child(at, name)?;
        }
        self.node(at)?;
        Ok(at)
    }

    /// The directory holding the last component of `path`, and that component.
    pub fn parent<'p>(&self, base: NodeId, path: &'p str) -> Result<(NodeId, &'p str), FsError> {
        let comps = path::components(path)?;
        let Some((last, dirs)) = comps.split_last() else { return Err(FsError::InvalidName) };
        let mut at = base;
        for name in dirs {
            at = self.child(at, name)?;
        }
        match self.node(at)? {
            Node::Dir { .. } => Ok((at, last)),
            Node::File { .. } => Err(FsError::NotDir),
        }
    }

    fn child(&self, dir: NodeId, name: &str) -> Result<NodeId, FsError> {
        match self.node(dir)? {
            Node::Dir { entries } => entries.get(name).copied().ok_or(FsError::NotFound),
            Node::File { .. } => Err(FsError::NotDir),
        }
    }

    fn node(&self, id: NodeId) -> Result<&Node, FsError> {
        self.meta.nodes.get(&id).ok_or(FsError::NotFound)
    }

    fn entries_mut(&mut self, dir: NodeId) -> Result<&mut BTreeMap<String, NodeId>, FsError> {
        match self.meta.nodes.get_mut(&dir) {
            Some(Node::Dir { entries }) => Ok(entries),
            Some(Node::File { .. }) => Err(FsError::NotDir),
            None => Err(FsError::NotFound),
        }
    }

    pub fn exists(&self, id: NodeId) -> bool {
        self.meta.nodes.contains_key(&id)
    }

    pub fn stat(&self, id: NodeId) -> Result<Stat, FsError> {
        Ok(match self.node(id)? {
            Node::File { size, .. } => Stat { kind: Kind::File, size: *size },
            Node::Dir { entries } => Stat { kind: Kind::Dir, size: entries.len() as u64 },
        })
    }

    pub fn list(&self, dir: NodeId) -> Result<Vec<(String, Stat)>, FsError> {
        let Node::Dir { entries } = self.node(dir)? else { return Err(FsError::NotDir) };
        entries.iter().map(|(n, id)| Ok((n.clone(), self.stat(*id)?))).collect()
    }

    fn insert(&mut self, dir: NodeId, name: &str, node: Node) -> Result<NodeId, FsError> {
        let id = self.meta.next_node;
        let entries = self.entries_mut(dir)?;
        if entries.contains_key(name) {
            return Err(FsError::Exists);
        }
        entries.insert(String::from(name), id);
        self.meta.next_node += 1;
        self.meta.nodes.insert(id, node);
        self.changed = true;
        Ok(id)
    }

    /// Opens (and with `mode.create`, creates) the file `path` below `base`.
    pub fn open(&mut self, base: NodeId, path: &str, mode: OpenMode) -> Result<NodeId, FsError> {
        let (dir, name) = self.parent(base, path)?;
        let id = match self.child(dir, name) {
            Ok(_) if mode.create && mode.exclusive => return Err(FsError::Exists),
            Ok(id) => id,
            Err(FsError::NotFound) if mode.create => {
                self.insert(dir, name, Node::File { size: 0, blocks: Vec::new() })?
            }
            Err(e) => return Err(e),
        };
        if self.node(id)?.kind() == Kind::Dir {
            return Err(FsError::IsDir);
        }
        if mode.truncate {
            self.truncate(id, 0)?;
        }
        Ok(id)
    }

    pub fn mkdir(&mut self, base: NodeId, path: &str) -> Result<NodeId, FsError> {
        let (dir, name) = self.parent(base, path)?;
        self.insert(dir, name, Node::Dir { entries: BTreeMap::new() })
    }

    /// Removes a file or an empty directory. A namespace's own root cannot be removed through
    /// it (its path is "", refused as an invalid name).
    pub fn remove(&mut self, base: NodeId, path: &str) -> Result<(), FsError> {
        let (dir, name) = self.parent(base, path)?;
        let id = self.child(dir, name)?;
        if let Node::Dir { entries } = self.node(id)? {
            if !entries.is_empty() {
                return Err(FsError::NotEmpty);
            }
        }
        self.entries_mut(dir)?.remove(name);
        if let Some(Node::File { blocks, .. }) = self.meta.nodes.remove(&id) {
            blocks.into_iter().for_each(|r| self.forget(r));
        }
        self.changed = true;
        Ok(())
    }

    /// Moves `from` to `to` (both below `base`). A file replaces a file; anything else already
    /// at `to` is `Exists`; a directory cannot move into itself.
    pub fn rename(&mut self, base: NodeId, from: &str, to: &str) -> Result<(), FsError> {
        let (src_dir, src_name) = self.parent(base, from)?;
        let id = self.child(src_dir, src_name)?;
        let (dst_dir, dst_name) = self.parent(base, to)?;
        if self.contains(id, dst_dir) {
            return Err(FsError::InvalidName);
        }
        match self.child(dst_dir, dst_name) {
            Ok(old) if old == id => return Ok(()),
            Ok(old) => {
                if self.node(old)?.kind() != Kind::File || self.node(id)?.kind() != Kind::File {
                    return Err(FsError::Exists);
                }
                self.entries_mut(dst_dir)?.remove(dst_name);
                if let Some(Node::File { blocks, .. }) = self.meta.nodes.remove(&old) {
                    blocks.into_iter().for_each(|r| self.forget(r));
                }
            }
            Err(FsError::NotFound) => {}
            Err(e) => return Err(e),
        }
        self.entries_mut(src_dir)?.remove(src_name);
        self.entries_mut(dst_dir)?.insert(String::from(dst_name), id);
        self.changed = true;
        Ok(())
    }

    /// Whether `inner` is `outer` or below it.
    fn contains(&self, outer: NodeId, inner: NodeId) -> bool {
        let mut todo = vec![outer];
        while let Some(id) = todo.pop() {
            if id == inner {
                return true;
            }
            if let Some(Node::Dir { entries }) = self.meta.nodes.get(&id) {
                todo.extend(entries.values().copied());
            }
        }
        false
    }
    // endregion: names

    // region: data
    fn file_mut(&mut self, id: NodeId) -> Result<(&mut u64, &mut Vec<BlockRef>), FsError> {
        match self.meta.nodes.get_mut(&id) {
            Some(Node::File { size, blocks }) => Ok((size, blocks)),
            Some(Node::Dir { .. }) => Err(FsError::IsDir),
            None => Err(FsError::NotFound),
        }
    }

    /// Up to `len` bytes at `offset` (fewer at the end of the file, none past it).
    pub fn read(&mut self, id: NodeId, offset: u64, len: usize) -> Result<Vec<u8>, FsError> {
        let (size, blocks) = self.file_mut(id)?;
        let (size, blocks) = (*size, blocks.clone());
        let end = offset.saturating_add(len as u64).min(size);
        let mut out = Vec::with_capacity(end.saturating_sub(offset) as usize);
        let mut at = offset;
        while at < end {
            let (i, within) = ((at / BLOCK as u64) as usize, (at % BLOCK as u64) as usize);
            let data = self.read_ref(blocks[i])?;
            let n = (BLOCK - within).min((end - at) as usize);
            out.extend_from_slice(&data[within..within + n]);
            at += n as u64;
        }
        Ok(out)
    }

    /// Writes `data` at `offset`, growing the file (a gap reads as zeros). Each touched block
    /// goes to a working-generation block: in place if it already is one, else a fresh copy.
    pub fn write(&mut self, id: NodeId, offset: u64, data: &[u8]) -> Result<usize, FsError> {
        let end = offset.checked_add(data.len() as u64).ok_or(FsError::NoSpace)?;
        if end.div_ceil(BLOCK as u64) > self.total as u64 {
            return Err(FsError::NoSpace);
        }
        self.file_mut(id)?;
        let mut at = offset;
        while at < end {
            let (i, within) = ((at / BLOCK as u64) as usize, (at % BLOCK as u64) as usize);
            let n = (BLOCK - within).min((end - at) as usize);
            let old = self.file_mut(id)?.1.get(i).copied().unwrap_or_default();
            let mut buf = if n == BLOCK { vec![0u8; BLOCK] } else { self.read_ref(old)? };
            let from = (at - offset) as usize;
            buf[within..within + n].copy_from_slice(&data[from..from + n]);
            let target = if old.block != 0 && self.dirty.contains(&old.block) { old.block } else { self.allocate()? };
            self.write_block(target, &buf)?;
            let (size, blocks) = self.file_mut(id)?;
            if blocks.len() <= i {
                blocks.resize(i + 1, BlockRef::default());
            }
            blocks[i] = BlockRef { block: target, crc: crc32c(&buf) };
            *size = (*size).max(at + n as u64);
            at += n as u64;
        }
        let (size, blocks) = self.file_mut(id)?;
        blocks.resize(size.div_ceil(BLOCK as u64) as usize, BlockRef::default());
        self.changed = true;
        Ok(data.len())
    }

    /// Sets the size; the bytes past a shrunk end are gone, a grown file reads zeros there.
    pub fn truncate(&mut self, id: NodeId, new_size: u64) -> Result<(), FsError> {
        if new_size.div_ceil(BLOCK as u64) > self.total as u64 {
            return Err(FsError::NoSpace);
        }
        let (size, _) = self.file_mut(id)?;
        let old_size = *size;
        let keep = new_size.div_ceil(BLOCK as u64) as usize;
        if new_size < old_size && !new_size.is_multiple_of(BLOCK as u64) {
            // The kept part of the last block stays; the rest of it must read as zeros later.
            let tail = (new_size % BLOCK as u64) as usize;
            let last = self.file_mut(id)?.1[keep - 1];
            if last.block != 0 {
                let mut buf = self.read_ref(last)?;
                buf[tail..].fill(0);
                let target = if self.dirty.contains(&last.block) { last.block } else { self.allocate()? };
                self.write_block(target, &buf)?;
                self.file_mut(id)?.1[keep - 1] = BlockRef { block: target, crc: crc32c(&buf) };
            }
        }
        let (size, blocks) = self.file_mut(id)?;
        *size = new_size;
        let dropped: Vec<BlockRef> = if blocks.len() > keep { blocks.split_off(keep) } else { Vec::new() };
        blocks.resize(keep, BlockRef::default());
        dropped.into_iter().for_each(|r| self.forget(r));
        self.changed = true;
        Ok(())
    }
    // endregion: data

    pub fn stats(&self) -> VolumeStats {
        let used = self.cur.union(&self.prev).chain(self.dirty.iter()).collect::<BTreeSet<_>>().len() as u64;
        let (files, dirs) = self.meta.nodes.values().fold((0, 0), |(f, d), n| match n {
            Node::File { .. } => (f + 1, d),
            Node::Dir { .. } => (f, d + 1),
        });
        VolumeStats {
            capacity: (self.total as u64 - 1) * BLOCK as u64,
            free: (self.total as u64 - 1).saturating_sub(used + self.bad.len() as u64) * BLOCK as u64,
            files,
            dirs,
            generation: self.generation,
        }
    }

    pub fn root(&self) -> NodeId {
        ROOT
    }

    pub fn disk(&self) -> &D {
        &self.disk
    }

    /// Gives the disk back (tests crash a volume by dropping it and remounting its disk).
    pub fn into_disk(self) -> D {
        self.disk
    }
}
