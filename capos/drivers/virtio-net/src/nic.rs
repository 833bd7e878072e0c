//! The NIC as smoltcp sees it: a `phy::Device` over virtio-drivers' `VirtIONetRaw`.
//!
//! Receive buffers live in one DMA region that the Hal shares in place (no copy into a bounce
//! buffer), so the device writes each frame straight where the stack reads it. A received frame
//! is copied once, into the token smoltcp consumes, and its buffer goes straight back to the
//! device. Transmission is virtio-drivers' synchronous `send`: QEMU takes a frame during the
//! notify, and the header and frame go through the Hal's bounce buffer.
use alloc::vec;
use alloc::vec::Vec;
use capos_rt::DmaRegion;
use capos_virtio_hal::CapHal;
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::pci::PciTransport;

/// Descriptors per virtqueue (QEMU's virtio-net offers 256). Under TCG on a busy machine QEMU can
/// deliver frames faster than the stack takes them; every frame that finds no receive buffer is
/// dropped and costs a retransmission timeout, so the ring is deep.
pub const QUEUE: usize = 128;
/// One receive buffer: the virtio-net header and a full Ethernet frame.
pub const RX_BUF: usize = 2048;
/// The largest Ethernet payload the stack may hand us.
pub const MTU: usize = 1514;

pub type Net = VirtIONetRaw<CapHal, PciTransport, QUEUE>;

// region: nic
pub struct Nic {
    pub net: Net,
    /// `QUEUE` receive buffers of `RX_BUF` bytes, in DMA memory the device writes directly.
    rx: DmaRegion,
    /// Frames received and not yet taken by the stack.
    pending: Vec<Vec<u8>>,
    pub frames_in: u64,
    pub frames_out: u64,
    /// TCP segments in with SYN and without ACK (connection attempts, retransmitted ones too).
    pub syns_in: u64,
}

impl Nic {
    /// Hands every receive buffer to the device.
    pub fn new(mut net: Net, rx: DmaRegion) -> Result<Nic, virtio_drivers::Error> {
        for i in 0..QUEUE {
            // SAFETY: buffer i lies inside the DMA region, which lives as long as the driver and
            // is touched only after the device has returned it (drain below).
            let token = unsafe { net.receive_begin(rx_buffer(&rx, i))? };
            debug_assert_eq!(token as usize, i);
        }
        Ok(Nic { net, rx, pending: Vec::new(), frames_in: 0, frames_out: 0, syns_in: 0 })
    }

    /// Moves every frame the device has completed into `pending` and re-queues its buffer.
    pub fn drain(&mut self) {
        while let Some(token) = self.net.poll_receive() {
            let buf = rx_buffer(&self.rx, token as usize);
            // A frame shorter than its header is an Err: dropped.
            // SAFETY: `token` names buffer `token`, the one receive_begin was given for it.
            if let Ok((header, len)) = unsafe { self.net.receive_complete(token, buf) } {
                let frame = &buf[header..header + len];
                self.syns_in += is_syn(frame) as u64;
                self.pending.push(frame.to_vec());
                self.frames_in += 1;
            }
            // SAFETY: as in `new`; the buffer's previous contents were copied out above.
            let _ = unsafe { self.net.receive_begin(rx_buffer(&self.rx, token as usize)) };
        }
    }
}

/// Whether an Ethernet frame is an IPv4 TCP segment with SYN set and ACK clear.
fn is_syn(frame: &[u8]) -> bool {
    if frame.len() < 14 + 20 || frame[12..14] != [0x08, 0x00] || frame[14 + 9] != 6 {
        return false;
    }
    let tcp = 14 + ((frame[14] & 0x0f) as usize) * 4;
    frame.get(tcp + 13).is_some_and(|flags| flags & 0x12 == 0x02)
}

/// Receive buffer `i` of the region.
fn rx_buffer(rx: &DmaRegion, i: usize) -> &'static mut [u8] {
    assert!(i < QUEUE && (QUEUE * RX_BUF) as u64 <= rx.size);
    // SAFETY: in range of the mapped DMA region (asserted); each index is one disjoint slice,
    // and the device and this driver never hold the same buffer at once.
    unsafe { core::slice::from_raw_parts_mut((rx.address as usize + i * RX_BUF) as *mut u8, RX_BUF) }
}

impl phy::Device for Nic {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken, TxToken<'_>)> {
        if self.pending.is_empty() {
            self.drain();
        }
        if self.pending.is_empty() {
            return None;
        }
        let frame = self.pending.remove(0);
        Some((RxToken(frame), TxToken(self)))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        Some(TxToken(self))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MTU;
        caps.max_burst_size = Some(QUEUE);
        caps
    }
}

pub struct RxToken(Vec<u8>);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

pub struct TxToken<'a>(&'a mut Nic);

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0u8; len];
        let r = f(&mut frame);
        // A frame the device refuses is lost, as on a wire; TCP retransmits it.
        if self.0.net.send(&frame).is_ok() {
            self.0.frames_out += 1;
        }
        r
    }
}
// endregion: nic
