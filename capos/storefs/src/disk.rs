//! What the volume needs from a block device: whole 512-byte sectors and a flush.
use alloc::string::String;

pub const SECTOR: usize = 512;

pub trait Disk {
    /// Size in sectors.
    fn sectors(&self) -> u64;
    /// Reads `buf.len() / 512` sectors from `sector`.
    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), String>;
    /// Writes whole sectors from `sector`; durable only after the next [`Disk::flush`].
    fn write(&mut self, sector: u64, data: &[u8]) -> Result<(), String>;
    /// Returns once everything written before is durable.
    fn flush(&mut self) -> Result<(), String>;
}
