//! The BlockDevice protocol on the driver's Endpoint: one call at a time, in arrival order, so
//! concurrent clients are served fairly by the endpoint's queue. Every request is checked
//! before the device sees it; a bad one gets an `invalidArgument` exception of its own.
use crate::{wait_for, Blk};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use capos_rt::block::{self, MAX_SECTORS, SECTOR};
use capos_rt::schema::capos_capnp::block_device;
use capos_rt::schema::exception::ExceptionKind;
use capos_rt::schema::wire::{self, AlignedBuf};
use capos_rt::{encode_params, Console, EndpointOwner, Error, Incoming};
use virtio_drivers::device::blk::{BlkReq, BlkResp};

/// Params of the largest write plus framing.
const RECV_CAPACITY: usize = MAX_SECTORS as usize * SECTOR + 512;

/// A refused or failed request: the exception kind and its reason.
type Refusal = (ExceptionKind, String);

fn invalid(why: String) -> Refusal {
    (ExceptionKind::InvalidArgument, why)
}

// region: serve
pub fn serve(
    blk: &mut Blk,
    ep: &EndpointOwner,
    console: &Console,
    clients: u32,
    die_after: Option<u32>,
) -> Result<i32, Error> {
    let (mut served, mut finished) = (0u32, 0u32);
    while finished < clients {
        let call = ep.recv_with_capacity(RECV_CAPACITY)?;
        if die_after == Some(served) {
            console.write_line(&format!("dying on purpose in the middle of call {}", call.call_id))?;
            // SAFETY: none; this is the deliberate fault the driver-death smoke asks for.
            unsafe { core::ptr::write_volatile(16 as *mut u8, 1) };
        }
        served += 1;
        if call.method == block::DONE {
            finished += 1;
            ep.ret(
                &call,
                &encode_params(|m| {
                    m.init_root::<block_device::done_results::Builder>();
                }),
                &[],
            )?;
            continue;
        }
        match handle(blk, &call) {
            Ok(result) => ep.ret(&call, &result, &[])?,
            Err((kind, why)) => ep.ret_exception(&call, kind, &why)?,
        }
    }
    let interrupts = crate::INTERRUPTS.load(core::sync::atomic::Ordering::Relaxed);
    console.write_line(&format!("served {served} calls after {interrupts} interrupts; all {clients} clients done"))?;
    Ok(0)
}

fn handle(blk: &mut Blk, call: &Incoming) -> Result<alloc::vec::Vec<u8>, Refusal> {
    let buf = AlignedBuf::copy_from(&call.params);
    let msg = wire::read(&buf).map_err(|e| invalid(format!("malformed params: {e}")))?;
    let bad = |e: capos_rt::schema::capnp::Error| invalid(format!("malformed params: {e}"));
    match call.method {
        block::INFO => Ok(encode_params(|m| {
            let mut r = m.init_root::<block_device::info_results::Builder>();
            r.set_sectors(blk.capacity());
            r.set_sector_size(SECTOR as u32);
            r.set_max_sectors(MAX_SECTORS);
        })),
        block::READ => {
            let p = msg.get_root::<block_device::read_params::Reader>().map_err(bad)?;
            let (sector, count) = (p.get_sector(), p.get_count());
            check_range(blk, sector, count as u64)?;
            let mut data = vec![0u8; count as usize * SECTOR];
            read(blk, sector, &mut data)?;
            Ok(encode_params(|m| m.init_root::<block_device::read_results::Builder>().set_data(&data)))
        }
        block::WRITE => {
            let p = msg.get_root::<block_device::write_params::Reader>().map_err(bad)?;
            let sector = p.get_sector();
            let data = p.get_data().map_err(bad)?;
            if data.is_empty() || data.len() % SECTOR != 0 {
                return Err(invalid(format!(
                    "write of {} bytes is not a whole number of {SECTOR}-byte sectors",
                    data.len()
                )));
            }
            check_range(blk, sector, (data.len() / SECTOR) as u64)?;
            write(blk, sector, data)?;
            Ok(encode_params(|m| {
                m.init_root::<block_device::write_results::Builder>();
            }))
        }
        block::FLUSH => {
            blk.flush().map_err(|e| (ExceptionKind::Failed, format!("flush: {e}")))?;
            Ok(encode_params(|m| {
                m.init_root::<block_device::flush_results::Builder>();
            }))
        }
        m => Err((ExceptionKind::Unimplemented, format!("BlockDevice has no method {m}"))),
    }
}
// endregion: serve

/// Refuses empty, oversized and out-of-range requests.
fn check_range(blk: &Blk, sector: u64, count: u64) -> Result<(), Refusal> {
    if count == 0 {
        return Err(invalid(String::from("request of 0 sectors")));
    }
    if count > MAX_SECTORS as u64 {
        return Err(invalid(format!("request of {count} sectors is over the limit of {MAX_SECTORS}")));
    }
    if sector.checked_add(count).is_none_or(|end| end > blk.capacity()) {
        return Err(invalid(format!(
            "sectors {sector}+{count} are past the end of the disk ({} sectors)",
            blk.capacity()
        )));
    }
    Ok(())
}

// region: io
fn read(blk: &mut Blk, sector: u64, data: &mut [u8]) -> Result<(), Refusal> {
    let failed = |e: virtio_drivers::Error| (ExceptionKind::Failed, format!("read: {e}"));
    let (mut req, mut resp) = (BlkReq::default(), BlkResp::default());
    // SAFETY: req, data and resp are not touched until complete_read_blocks below.
    let token = unsafe { blk.read_blocks_nb(sector as usize, &mut req, data, &mut resp) }.map_err(failed)?;
    wait_for(blk, token).map_err(|e| (ExceptionKind::Failed, format!("waiting for the interrupt: {e}")))?;
    // SAFETY: the same buffers as passed to read_blocks_nb.
    unsafe { blk.complete_read_blocks(token, &req, data, &mut resp) }.map_err(failed)
}

fn write(blk: &mut Blk, sector: u64, data: &[u8]) -> Result<(), Refusal> {
    let failed = |e: virtio_drivers::Error| (ExceptionKind::Failed, format!("write: {e}"));
    let (mut req, mut resp) = (BlkReq::default(), BlkResp::default());
    // SAFETY: req, data and resp are not touched until complete_write_blocks below.
    let token = unsafe { blk.write_blocks_nb(sector as usize, &mut req, data, &mut resp) }.map_err(failed)?;
    wait_for(blk, token).map_err(|e| (ExceptionKind::Failed, format!("waiting for the interrupt: {e}")))?;
    // SAFETY: the same buffers as passed to write_blocks_nb.
    unsafe { blk.complete_write_blocks(token, &req, data, &mut resp) }.map_err(failed)
}
// endregion: io
