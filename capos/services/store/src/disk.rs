//! The volume's disk: a BlockDevice client, in requests of at most the driver's limit. Once the
//! driver is gone (its endpoint answers `disconnected`) the disk remembers it, so the store can
//! tell every later caller the same.
use alloc::format;
use alloc::string::String;
use capos_rt::schema::exception::ExceptionKind;
use capos_rt::{block, BlockDevice, Error};
use capos_storefs::disk::{Disk, SECTOR};

pub struct BlockDisk {
    dev: BlockDevice,
    sectors: u64,
    /// Why the driver is gone, once it is.
    pub gone: Option<String>,
}

impl BlockDisk {
    pub fn new(dev: BlockDevice) -> Result<BlockDisk, Error> {
        let info = dev.info()?;
        Ok(BlockDisk { dev, sectors: info.sectors, gone: None })
    }

    pub fn device(&self) -> &BlockDevice {
        &self.dev
    }

    fn check<T>(&mut self, r: Result<T, Error>) -> Result<T, String> {
        r.map_err(|e| {
            if let Error::Exception(x) = &e {
                if x.kind == ExceptionKind::Disconnected {
                    self.gone.get_or_insert_with(|| format!("{e}"));
                }
            }
            format!("{e}")
        })
    }
}

const CHUNK: usize = block::MAX_SECTORS as usize;

impl Disk for BlockDisk {
    fn sectors(&self) -> u64 {
        self.sectors
    }

    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), String> {
        for (i, part) in buf.chunks_mut(CHUNK * SECTOR).enumerate() {
            let r = self.dev.read(sector + (i * CHUNK) as u64, (part.len() / SECTOR) as u32);
            let data = self.check(r)?;
            part.copy_from_slice(&data);
        }
        Ok(())
    }

    fn write(&mut self, sector: u64, data: &[u8]) -> Result<(), String> {
        for (i, part) in data.chunks(CHUNK * SECTOR).enumerate() {
            let r = self.dev.write(sector + (i * CHUNK) as u64, part);
            self.check(r)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        let r = self.dev.flush();
        self.check(r)
    }
}
