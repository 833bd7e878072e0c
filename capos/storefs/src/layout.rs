//! Where things are on the disk: 4 KiB blocks; block 0 holds the two superblock sectors (slot 0
//! at sector 0, slot 1 at sector 1), every other block is a metadata or data block.
use crate::crc::crc32c;
use crate::disk::SECTOR;
use alloc::vec::Vec;

pub const BLOCK: usize = 4096;
pub const SECTORS_PER_BLOCK: u64 = (BLOCK / SECTOR) as u64;
pub const MAGIC: [u8; 8] = *b"capOSst1";
pub const VERSION: u32 = 1;
/// Metadata blocks one superblock can name (448 KiB of metadata).
pub const MAX_META: usize = 112;
/// The smallest volume: block 0 and room to work.
pub const MIN_BLOCKS: u64 = 16;

// region: superblock
/// One superblock sector: the root of generation `generation`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Superblock {
    pub total_blocks: u32,
    pub generation: u64,
    pub next_node: u64,
    /// Length and CRC-32C of the metadata blob, stored in `meta` blocks in order.
    pub meta_len: u32,
    pub meta_crc: u32,
    pub meta: Vec<u32>,
}

impl Superblock {
    /// The sector this generation's superblock goes to: generations alternate between slots,
    /// so writing one never touches the other.
    pub fn slot(generation: u64) -> u64 {
        generation % 2
    }

    pub fn encode(&self) -> [u8; SECTOR] {
        let mut b = [0u8; SECTOR];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..12].copy_from_slice(&VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&(BLOCK as u32).to_le_bytes());
        b[16..20].copy_from_slice(&self.total_blocks.to_le_bytes());
        b[24..32].copy_from_slice(&self.generation.to_le_bytes());
        b[32..40].copy_from_slice(&self.next_node.to_le_bytes());
        b[40..44].copy_from_slice(&self.meta_len.to_le_bytes());
        b[44..48].copy_from_slice(&self.meta_crc.to_le_bytes());
        b[48..52].copy_from_slice(&(self.meta.len() as u32).to_le_bytes());
        for (i, m) in self.meta.iter().enumerate() {
            b[56 + 4 * i..60 + 4 * i].copy_from_slice(&m.to_le_bytes());
        }
        let crc = crc32c(&b[..508]);
        b[508..512].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// The superblock in `b`, or None when its checksum, magic or fields are wrong (a torn or
    /// never-written sector is simply not a superblock).
    pub fn decode(b: &[u8; SECTOR], disk_blocks: u64) -> Option<Superblock> {
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let u64_at = |o: usize| u32_at(o) as u64 | (u32_at(o + 4) as u64) << 32;
        if crc32c(&b[..508]) != u32_at(508) || b[0..8] != MAGIC || u32_at(8) != VERSION || u32_at(12) != BLOCK as u32 {
            return None;
        }
        let total_blocks = u32_at(16);
        let count = u32_at(48) as usize;
        if total_blocks as u64 > disk_blocks || (total_blocks as u64) < MIN_BLOCKS || count > MAX_META || count == 0 {
            return None;
        }
        let meta: Vec<u32> = (0..count).map(|i| u32_at(56 + 4 * i)).collect();
        let meta_len = u32_at(40);
        if meta.iter().any(|&m| m == 0 || m >= total_blocks) || meta_len as usize > count * BLOCK {
            return None;
        }
        Some(Superblock {
            total_blocks,
            generation: u64_at(24),
            next_node: u64_at(32),
            meta_len,
            meta_crc: u32_at(44),
            meta,
        })
    }
}
// endregion: superblock

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_any_flipped_bit_is_refused() {
        let sb = Superblock {
            total_blocks: 4096,
            generation: 7,
            next_node: 9,
            meta_len: 5000,
            meta_crc: 0xabcd,
            meta: alloc::vec![3, 4],
        };
        let b = sb.encode();
        assert_eq!(Superblock::decode(&b, 4096), Some(sb));
        for bit in (0..SECTOR * 8).step_by(7) {
            let mut c = b;
            c[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(Superblock::decode(&c, 4096), None, "bit {bit}");
        }
        assert_eq!(Superblock::decode(&[0; SECTOR], 4096), None, "a blank sector is no superblock");
        assert_eq!(Superblock::decode(&b, 100), None, "a volume larger than its disk is refused");
    }
}
