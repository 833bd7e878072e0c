//! The metadata blob: every node (file or directory) of one generation, in a simple
//! length-prefixed little-endian encoding. Decoding trusts nothing: a blob that passed its CRC
//! but does not describe a tree of in-range, unshared blocks is refused all the same.
use crate::layout::BLOCK;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

pub type NodeId = u64;
/// The root directory.
pub const ROOT: NodeId = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
}

/// One data block of a file: where it is (0: a hole, reads as zeros) and its CRC-32C.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct BlockRef {
    pub block: u32,
    pub crc: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    File { size: u64, blocks: Vec<BlockRef> },
    Dir { entries: BTreeMap<String, NodeId> },
}

impl Node {
    pub fn kind(&self) -> Kind {
        match self {
            Node::File { .. } => Kind::File,
            Node::Dir { .. } => Kind::Dir,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub nodes: BTreeMap<NodeId, Node>,
    /// Node ids are never reused, so a stale handle can never name a newer file.
    pub next_node: NodeId,
}

impl Meta {
    pub fn empty() -> Meta {
        let mut nodes = BTreeMap::new();
        nodes.insert(ROOT, Node::Dir { entries: BTreeMap::new() });
        Meta { nodes, next_node: ROOT + 1 }
    }

    /// Every block this generation references (data only; the caller adds the metadata blocks).
    pub fn blocks(&self) -> impl Iterator<Item = u32> + '_ {
        self.nodes
            .values()
            .flat_map(|n| match n {
                Node::File { blocks, .. } => blocks.as_slice(),
                Node::Dir { .. } => &[],
            })
            .map(|r| r.block)
            .filter(|&b| b != 0)
    }

    // region: encode
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Vec::new();
        o.extend_from_slice(&(self.nodes.len() as u32).to_le_bytes());
        for (id, node) in &self.nodes {
            o.extend_from_slice(&id.to_le_bytes());
            match node {
                Node::File { size, blocks } => {
                    o.push(0);
                    o.extend_from_slice(&size.to_le_bytes());
                    o.extend_from_slice(&(blocks.len() as u32).to_le_bytes());
                    for r in blocks {
                        o.extend_from_slice(&r.block.to_le_bytes());
                        o.extend_from_slice(&r.crc.to_le_bytes());
                    }
                }
                Node::Dir { entries } => {
                    o.push(1);
                    o.extend_from_slice(&(entries.len() as u32).to_le_bytes());
                    for (name, child) in entries {
                        o.extend_from_slice(&(name.len() as u16).to_le_bytes());
                        o.extend_from_slice(name.as_bytes());
                        o.extend_from_slice(&child.to_le_bytes());
                    }
                }
            }
        }
        o
    }
    // endregion: encode

    // region: decode
    /// Parses and validates a blob of a volume of `total_blocks`; the reason on refusal.
    pub fn decode(b: &[u8], total_blocks: u32, next_node: NodeId) -> Result<Meta, &'static str> {
        let mut r = Reader { b, at: 0 };
        let count = r.u32()?;
        let mut nodes = BTreeMap::new();
        for _ in 0..count {
            let id = r.u64()?;
            let node = match r.u8()? {
                0 => {
                    let size = r.u64()?;
                    let n = r.u32()? as usize;
                    if n as u64 != size.div_ceil(BLOCK as u64) {
                        return Err("file block count does not match its size");
                    }
                    let mut blocks = Vec::with_capacity(n.min(1 << 16));
                    for _ in 0..n {
                        blocks.push(BlockRef { block: r.u32()?, crc: r.u32()? });
                    }
                    Node::File { size, blocks }
                }
                1 => {
                    let n = r.u32()?;
                    let mut entries = BTreeMap::new();
                    for _ in 0..n {
                        let len = r.u16()? as usize;
                        let name = core::str::from_utf8(r.take(len)?).map_err(|_| "name is not utf-8")?;
                        crate::path::check_name(name).map_err(|_| "invalid name in a directory")?;
                        entries.insert(String::from(name), r.u64()?);
                    }
                    Node::Dir { entries }
                }
                _ => return Err("unknown node kind"),
            };
            if id == 0 || id >= next_node || nodes.insert(id, node).is_some() {
                return Err("bad or duplicate node id");
            }
        }
        if r.at != b.len() {
            return Err("trailing bytes after the last node");
        }
        let meta = Meta { nodes, next_node };
        meta.check_tree(total_blocks)?;
        Ok(meta)
    }

    /// The root is a directory, every other node is named exactly once, and every block is in
    /// range and belongs to one file only.
    fn check_tree(&self, total_blocks: u32) -> Result<(), &'static str> {
        if !matches!(self.nodes.get(&ROOT), Some(Node::Dir { .. })) {
            return Err("no root directory");
        }
        let mut named = BTreeSet::new();
        for node in self.nodes.values() {
            if let Node::Dir { entries } = node {
                for child in entries.values() {
                    if *child == ROOT || !self.nodes.contains_key(child) || !named.insert(*child) {
                        return Err("a directory entry names a missing, root or shared node");
                    }
                }
            }
        }
        if named.len() + 1 != self.nodes.len() {
            return Err("a node is in no directory");
        }
        let mut seen = BTreeSet::new();
        for b in self.blocks() {
            if b >= total_blocks || !seen.insert(b) {
                return Err("a block is out of range or shared");
            }
        }
        // A cycle of directories not reachable from the root would pass the counts above.
        let mut reach = BTreeSet::from([ROOT]);
        let mut todo = alloc::vec![ROOT];
        while let Some(id) = todo.pop() {
            if let Some(Node::Dir { entries }) = self.nodes.get(&id) {
                for c in entries.values() {
                    if reach.insert(*c) {
                        todo.push(*c);
                    }
                }
            }
        }
        if reach.len() != self.nodes.len() {
            return Err("a node is not reachable from the root");
        }
        Ok(())
    }
    // endregion: decode
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len()).ok_or("metadata ends early")?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, &'static str> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, &'static str> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> Result<u64, &'static str> {
        Ok(self.u32()? as u64 | (self.u32()? as u64) << 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Meta {
        let mut m = Meta::empty();
        m.nodes.insert(
            2,
            Node::File {
                size: 5000,
                blocks: alloc::vec![BlockRef { block: 3, crc: 1 }, BlockRef { block: 0, crc: 0 }],
            },
        );
        m.nodes.insert(3, Node::Dir { entries: BTreeMap::from([(String::from("f"), 2)]) });
        if let Some(Node::Dir { entries }) = m.nodes.get_mut(&ROOT) {
            entries.insert(String::from("d"), 3);
        }
        m.next_node = 4;
        m
    }

    #[test]
    fn round_trips() {
        let m = sample();
        assert_eq!(Meta::decode(&m.encode(), 100, 4), Ok(m));
    }

    #[test]
    fn refuses_blobs_that_are_not_a_tree() {
        let mut shared = sample();
        shared.nodes.insert(4, Node::File { size: 1, blocks: alloc::vec![BlockRef { block: 3, crc: 0 }] });
        if let Some(Node::Dir { entries }) = shared.nodes.get_mut(&ROOT) {
            entries.insert(String::from("g"), 4);
        }
        assert_eq!(Meta::decode(&shared.encode(), 100, 5), Err("a block is out of range or shared"));
        assert_eq!(Meta::decode(&sample().encode(), 3, 4), Err("a block is out of range or shared"));
        let mut orphan = sample();
        orphan.nodes.insert(4, Node::Dir { entries: BTreeMap::new() });
        assert_eq!(Meta::decode(&orphan.encode(), 100, 5), Err("a node is in no directory"));
        let b = sample().encode();
        assert_eq!(Meta::decode(&b[..b.len() - 1], 100, 4), Err("metadata ends early"));
        assert_eq!(Meta::decode(&b, 100, 3), Err("bad or duplicate node id"));
    }
}
