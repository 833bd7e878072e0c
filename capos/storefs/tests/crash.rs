//! Crash consistency on the host: a disk that remembers which writes are durable, a crash that
//! keeps any subset of the rest (torn, reordered), and a reference model of the last sync.
use capos_storefs::disk::{Disk, SECTOR};
use capos_storefs::{FsError, Kind, OpenMode, Volume, ROOT};
use std::collections::BTreeMap;

/// A disk whose unflushed writes are pending until a flush; it may fail from the n-th request
/// on (a crash in the middle of a sync).
#[derive(Clone)]
struct MemDisk {
    durable: Vec<u8>,
    pending: Vec<(u64, Vec<u8>)>,
    fail_after: Option<usize>,
}

impl MemDisk {
    fn new(sectors: u64) -> MemDisk {
        MemDisk { durable: vec![0; sectors as usize * SECTOR], pending: Vec::new(), fail_after: None }
    }
    fn tick(&mut self) -> Result<(), String> {
        match &mut self.fail_after {
            Some(0) => Err("crashed".into()),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }
    /// The image after a power cut: the durable bytes plus the pending writes the `keep`
    /// function picks, in the order it gives, sector by sector (a sector may be torn in half).
    fn crash(&self, rng: &mut Rng) -> MemDisk {
        let mut image = self.durable.clone();
        let mut sectors: Vec<(u64, &[u8])> = Vec::new();
        for (s, data) in &self.pending {
            for (i, chunk) in data.chunks(SECTOR).enumerate() {
                sectors.push((s + i as u64, chunk));
            }
        }
        for i in (1..sectors.len()).rev() {
            sectors.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for (s, chunk) in sectors {
            let at = s as usize * SECTOR;
            match rng.below(4) {
                0 => {}
                1 => image[at..at + SECTOR / 2].copy_from_slice(&chunk[..SECTOR / 2]),
                _ => image[at..at + SECTOR].copy_from_slice(chunk),
            }
        }
        MemDisk { durable: image, pending: Vec::new(), fail_after: None }
    }
}

impl Disk for MemDisk {
    fn sectors(&self) -> u64 {
        (self.durable.len() / SECTOR) as u64
    }
    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), String> {
        self.tick()?;
        let at = sector as usize * SECTOR;
        buf.copy_from_slice(&self.durable[at..at + buf.len()]);
        // Reads see pending writes too, as a real disk's cache would.
        for (s, data) in &self.pending {
            for (i, chunk) in data.chunks(SECTOR).enumerate() {
                let t = s + i as u64;
                if t >= sector && t < sector + (buf.len() / SECTOR) as u64 {
                    let o = (t - sector) as usize * SECTOR;
                    buf[o..o + SECTOR].copy_from_slice(chunk);
                }
            }
        }
        Ok(())
    }
    fn write(&mut self, sector: u64, data: &[u8]) -> Result<(), String> {
        self.tick()?;
        assert_eq!(data.len() % SECTOR, 0);
        self.pending.push((sector, data.to_vec()));
        Ok(())
    }
    fn flush(&mut self) -> Result<(), String> {
        self.tick()?;
        for (s, data) in std::mem::take(&mut self.pending) {
            let at = s as usize * SECTOR;
            self.durable[at..at + data.len()].copy_from_slice(&data);
        }
        Ok(())
    }
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

type Model = BTreeMap<String, Vec<u8>>;

fn contents(v: &mut Volume<MemDisk>) -> Model {
    let mut m = Model::new();
    for (name, st) in v.list(ROOT).unwrap() {
        assert_eq!(st.kind, Kind::File);
        let id = v.resolve(ROOT, &name).unwrap();
        m.insert(name, v.read(id, 0, st.size as usize).unwrap());
    }
    m
}

/// One random change to the volume and the model alike.
fn step(v: &mut Volume<MemDisk>, model: &mut Model, rng: &mut Rng) -> Result<(), FsError> {
    let name = format!("f{}", rng.below(6));
    let w = OpenMode { write: true, create: true, ..OpenMode::default() };
    match rng.below(10) {
        0..=5 => {
            let id = v.open(ROOT, &name, w)?;
            let offset = rng.below(9000);
            let data: Vec<u8> = (0..rng.below(10000)).map(|i| (i ^ offset ^ rng.0) as u8).collect();
            v.write(id, offset, &data)?;
            let f = model.entry(name).or_default();
            if f.len() < offset as usize + data.len() {
                f.resize(offset as usize + data.len(), 0);
            }
            f[offset as usize..offset as usize + data.len()].copy_from_slice(&data);
        }
        6 => {
            let id = v.open(ROOT, &name, w)?;
            let size = rng.below(12000);
            v.truncate(id, size)?;
            model.entry(name).or_default().resize(size as usize, 0);
        }
        7 => {
            let to = format!("f{}", rng.below(6));
            match v.rename(ROOT, &name, &to) {
                Ok(()) => {
                    if let Some(d) = model.remove(&name) {
                        model.insert(to, d);
                    }
                }
                Err(FsError::NotFound) => assert!(!model.contains_key(&name)),
                Err(e) => return Err(e),
            }
        }
        _ => match v.remove(ROOT, &name) {
            Ok(()) => assert!(model.remove(&name).is_some()),
            Err(FsError::NotFound) => assert!(!model.contains_key(&name)),
            Err(e) => return Err(e),
        },
    }
    Ok(())
}

#[test]
fn every_crash_recovers_the_last_synced_state() {
    for seed in 1..=60u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let (mut v, report) = Volume::mount(MemDisk::new(2048)).unwrap();
        assert!(report.formatted);
        let mut model = Model::new();
        let mut synced = Model::new();
        for round in 0..8 {
            for _ in 0..rng.below(6) {
                step(&mut v, &mut model, &mut rng).unwrap();
            }
            if rng.below(3) > 0 {
                v.sync().unwrap();
                synced = model.clone();
            }
            // A power cut now: any subset of the unflushed writes, in any order, some torn.
            let image = v.into_disk();
            let (mut back, report) = Volume::mount(image.crash(&mut rng)).unwrap();
            assert!(report.bad_blocks.is_empty(), "seed {seed} round {round}: {report:?}");
            assert!(contents(&mut back) == synced, "seed {seed} round {round}: after a crash");
            drop(back);
            // Without a crash the disk holds the synced state too: unsynced changes lived only in
            // the working generation, which a remount does not see.
            v = Volume::mount(image).unwrap().0;
            model = synced.clone();
            assert!(contents(&mut v) == model, "seed {seed} round {round}: remount without a crash");
        }
    }
}

#[test]
fn a_crash_in_the_middle_of_a_sync_gives_the_old_or_the_new_state() {
    for cut in 0..40usize {
        let (mut v, _) = Volume::mount(MemDisk::new(1024)).unwrap();
        let w = OpenMode { write: true, create: true, ..OpenMode::default() };
        let id = v.open(ROOT, "a", w).unwrap();
        v.write(id, 0, &[1u8; 9000]).unwrap();
        v.sync().unwrap();
        let old: Model = [("a".to_string(), vec![1u8; 9000])].into();
        let b = v.open(ROOT, "b", w).unwrap();
        v.write(b, 0, &[2u8; 5000]).unwrap();
        v.write(id, 4096, &[3u8; 100]).unwrap();
        let mut new = old.clone();
        new.insert("b".into(), vec![2u8; 5000]);
        new.get_mut("a").unwrap()[4096..4196].fill(3);
        let mut disk = v.into_disk();
        disk.fail_after = Some(cut);
        let (mut v, _) = match Volume::mount(disk.clone()) {
            Ok(x) => x,
            Err(_) => continue,
        };
        let _ = (|| -> Result<(), FsError> {
            let b = v.open(ROOT, "b", w)?;
            v.write(b, 0, &[2u8; 5000])?;
            let a = v.resolve(ROOT, "a")?;
            v.write(a, 4096, &[3u8; 100])?;
            v.sync()
        })();
        let mut rng = Rng(cut as u64 + 1);
        let (mut back, _) = Volume::mount(v.into_disk().crash(&mut rng)).unwrap();
        let got = contents(&mut back);
        assert!(got == old || got == new, "cut {cut}: {:?}", got.keys().collect::<Vec<_>>());
    }
}

#[test]
fn a_flipped_bit_is_detected_and_rolled_back_or_refused() {
    let (mut v, _) = Volume::mount(MemDisk::new(1024)).unwrap();
    let w = OpenMode { write: true, create: true, ..OpenMode::default() };
    let a = v.open(ROOT, "a", w).unwrap();
    v.write(a, 0, &[7u8; 4096]).unwrap();
    v.sync().unwrap();
    let b = v.open(ROOT, "b", w).unwrap();
    v.write(b, 0, &[8u8; 4096]).unwrap();
    v.sync().unwrap();
    let mut disk = v.into_disk();
    let sb =
        capos_storefs::layout::Superblock::decode(&disk.durable[SECTOR..2 * SECTOR].try_into().unwrap(), 128).unwrap();
    assert_eq!(sb.generation, 3);
    // Flip a bit of generation 3's metadata: mount rolls back to generation 2, without "b".
    let mut meta_flip = disk.clone();
    meta_flip.durable[sb.meta[0] as usize * 4096 + 5] ^= 0x10;
    let (mut v2, report) = Volume::mount(meta_flip).unwrap();
    assert_eq!(report.generation, 2);
    assert_eq!(report.rolled_back.as_ref().map(|r| r.0), Some(3));
    assert_eq!(contents(&mut v2).keys().cloned().collect::<Vec<_>>(), ["a"]);
    // Flip a bit of "a"'s only block, shared by both generations: quarantined, never served.
    let a_block = {
        let (mut v3, _) = Volume::mount(disk.clone()).unwrap();
        let id = v3.resolve(ROOT, "a").unwrap();
        assert_eq!(v3.read(id, 0, 10).unwrap(), vec![7u8; 10]);
        v3.into_disk();
        (0..disk.durable.len() / 4096)
            .find(|&blk| blk > 0 && disk.durable[blk * 4096..blk * 4096 + 4096].iter().all(|&x| x == 7))
            .unwrap()
    };
    disk.durable[a_block * 4096 + 100] ^= 1;
    let (mut v4, report) = Volume::mount(disk).unwrap();
    assert_eq!(report.bad_blocks, vec![a_block as u32]);
    let id = v4.resolve(ROOT, "a").unwrap();
    assert_eq!(v4.read(id, 0, 10), Err(FsError::Corrupt));
    let id = v4.resolve(ROOT, "b").unwrap();
    assert_eq!(v4.read(id, 0, 3).unwrap(), vec![8u8; 3]);
}

#[test]
fn every_error_outcome() {
    let (mut v, _) = Volume::mount(MemDisk::new(256)).unwrap();
    let w = OpenMode { write: true, create: true, ..OpenMode::default() };
    let f = v.open(ROOT, "f", w).unwrap();
    v.mkdir(ROOT, "d").unwrap();
    v.open(ROOT, "d/g", w).unwrap();
    assert_eq!(v.open(ROOT, "f", OpenMode { exclusive: true, ..w }), Err(FsError::Exists));
    assert_eq!(v.open(ROOT, "nope", OpenMode::default()), Err(FsError::NotFound));
    assert_eq!(v.open(ROOT, "f/x", w), Err(FsError::NotDir));
    assert_eq!(v.open(ROOT, "d", w), Err(FsError::IsDir));
    assert_eq!(v.remove(ROOT, "d"), Err(FsError::NotEmpty));
    assert_eq!(v.mkdir(ROOT, "../x"), Err(FsError::InvalidName));
    assert_eq!(v.rename(ROOT, "d", "d/g2"), Err(FsError::InvalidName));
    assert_eq!(v.rename(ROOT, "f", "d"), Err(FsError::Exists));
    // 256 sectors are 32 blocks: a 1 MiB write cannot fit.
    assert_eq!(v.write(f, 0, &vec![1u8; 1 << 20]), Err(FsError::NoSpace));
    assert_eq!(v.write(f, u64::MAX - 2, b"abc"), Err(FsError::NoSpace));
    assert_eq!(v.read(f, u64::MAX, 10).unwrap(), Vec::<u8>::new());
}
