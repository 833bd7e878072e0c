//! The few ACPI tables the kernel reads to route interrupts (appendix A.6): the RSDP, the root
//! table (RSDT or XSDT) and the MADT, whose entries name the IOAPICs and the interrupt source
//! overrides. Pure parsing over byte slices, so the host tests feed it hand-built tables; the
//! kernel supplies the bytes through its direct map. Every length and checksum is checked, and
//! a table that does not add up is an error, never a panic.

use alloc::vec::Vec;

/// Where the root table is and how wide its entries are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Root {
    pub address: u64,
    /// XSDT (8-byte entries) rather than RSDT (4-byte entries).
    pub wide: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoApic {
    pub id: u8,
    pub address: u32,
    pub gsi_base: u32,
}

/// An interrupt source override: ISA IRQ `source` arrives on `gsi` with these MPS flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Override {
    pub source: u8,
    pub gsi: u32,
    pub flags: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Madt {
    pub lapic: u64,
    pub ioapics: Vec<IoApic>,
    pub overrides: Vec<Override>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcpiError {
    /// The signature is not the one asked for.
    Signature,
    /// A length field runs past the bytes given, or is too short for its header.
    Length,
    /// The bytes do not sum to 0 mod 256.
    Checksum,
    /// A MADT with no IOAPIC entry.
    NoIoApic,
}

impl core::fmt::Display for AcpiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Signature => "wrong table signature",
            Self::Length => "table length out of bounds",
            Self::Checksum => "bad table checksum",
            Self::NoIoApic => "the madt lists no ioapic",
        })
    }
}

fn sum_ok(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b)) == 0
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | u64::from(u32_at(b, at + 4)) << 32
}

// region: root
/// Reads the RSDP (at least its 20-byte ACPI 1.0 part; 36 bytes for revision 2 and later).
pub fn rsdp(b: &[u8]) -> Result<Root, AcpiError> {
    if b.len() < 20 || &b[..8] != b"RSD PTR " {
        return Err(AcpiError::Signature);
    }
    if !sum_ok(&b[..20]) {
        return Err(AcpiError::Checksum);
    }
    if b[15] >= 2 && b.len() >= 36 && sum_ok(&b[..36]) && u64_at(b, 24) != 0 {
        return Ok(Root { address: u64_at(b, 24), wide: true });
    }
    Ok(Root { address: u64::from(u32_at(b, 16)), wide: false })
}

/// The length a table's header claims (the caller then reads that many bytes).
pub fn table_length(header: &[u8]) -> Result<usize, AcpiError> {
    if header.len() < 36 {
        return Err(AcpiError::Length);
    }
    Ok(u32_at(header, 4) as usize)
}

/// Checks a whole table's signature, length and checksum; returns the bytes after its header.
pub fn table<'a>(b: &'a [u8], signature: &[u8; 4]) -> Result<&'a [u8], AcpiError> {
    let len = table_length(b)?;
    if &b[..4] != signature {
        return Err(AcpiError::Signature);
    }
    if len < 36 || len > b.len() {
        return Err(AcpiError::Length);
    }
    if !sum_ok(&b[..len]) {
        return Err(AcpiError::Checksum);
    }
    Ok(&b[36..len])
}

/// The physical addresses of the tables a root table lists.
pub fn root_entries(b: &[u8], root: Root) -> Result<Vec<u64>, AcpiError> {
    let body = table(b, if root.wide { b"XSDT" } else { b"RSDT" })?;
    let width = if root.wide { 8 } else { 4 };
    Ok(body.chunks_exact(width).map(|c| if root.wide { u64_at(c, 0) } else { u64::from(u32_at(c, 0)) }).collect())
}
// endregion: root

// region: madt
/// Parses a MADT ("APIC"): the local APIC address (with its 64-bit override, entry type 5),
/// the IOAPICs (type 1) and the interrupt source overrides (type 2). Other entry types are
/// skipped; an entry whose length runs past the table, or is under 2, ends it with an error.
pub fn madt(b: &[u8]) -> Result<Madt, AcpiError> {
    let body = table(b, b"APIC")?;
    if body.len() < 8 {
        return Err(AcpiError::Length);
    }
    let mut m = Madt { lapic: u64::from(u32_at(body, 0)), ioapics: Vec::new(), overrides: Vec::new() };
    let mut at = 8;
    while at + 2 <= body.len() {
        let (kind, len) = (body[at], body[at + 1] as usize);
        if len < 2 || at + len > body.len() {
            return Err(AcpiError::Length);
        }
        let e = &body[at..at + len];
        match (kind, len) {
            (1, 12) => m.ioapics.push(IoApic { id: e[2], address: u32_at(e, 4), gsi_base: u32_at(e, 8) }),
            (2, 10) => {
                m.overrides.push(Override { source: e[3], gsi: u32_at(e, 4), flags: u16::from_le_bytes([e[8], e[9]]) })
            }
            (5, 12) => m.lapic = u64_at(e, 4),
            _ => {}
        }
        at += len;
    }
    if m.ioapics.is_empty() {
        return Err(AcpiError::NoIoApic);
    }
    Ok(m)
}
// endregion: madt

// region: route
/// How one interrupt line reaches the IOAPIC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub gsi: u32,
    pub active_low: bool,
    pub level: bool,
}

/// The bus a line comes from decides what "conforming" flags mean: ISA lines are edge-triggered
/// and active high, PCI INTx lines level-triggered and active low (MPS 1.4, table 4-10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bus {
    Isa,
    Pci,
}

impl Madt {
    /// Where ISA IRQ `irq` (the number a PCI function's interrupt line register holds on a
    /// PIIX machine, where firmware routes each PIRQ to an ISA IRQ) arrives: its override if
    /// there is one (GSI and flags, each "conforming" field taking the bus default), else the
    /// identity GSI with the bus defaults.
    pub fn route(&self, irq: u8, bus: Bus) -> Route {
        let (default_low, default_level) = match bus {
            Bus::Isa => (false, false),
            Bus::Pci => (true, true),
        };
        let Some(o) = self.overrides.iter().find(|o| o.source == irq) else {
            return Route { gsi: u32::from(irq), active_low: default_low, level: default_level };
        };
        let active_low = match o.flags & 3 {
            1 => false,
            3 => true,
            _ => default_low,
        };
        let level = match (o.flags >> 2) & 3 {
            1 => false,
            3 => true,
            _ => default_level,
        };
        Route { gsi: o.gsi, active_low, level }
    }

    /// The IOAPIC serving `gsi`, given each one's number of redirection entries.
    pub fn ioapic_for(&self, gsi: u32, entries: impl Fn(&IoApic) -> u32) -> Option<(IoApic, u32)> {
        self.ioapics.iter().find(|a| gsi >= a.gsi_base && gsi - a.gsi_base < entries(a)).map(|a| (*a, gsi - a.gsi_base))
    }
}
// endregion: route

#[cfg(test)]
mod tests {
    use super::*;

    /// A table with `signature`, the body, and a checksum that makes it sum to 0.
    fn make_table(signature: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut t = Vec::from(&signature[..]);
        t.extend_from_slice(&((36 + body.len()) as u32).to_le_bytes());
        t.extend_from_slice(&[1, 0]); // revision, checksum (fixed below)
        t.extend_from_slice(b"CAPOS ");
        t.extend_from_slice(b"TESTTABL");
        t.extend_from_slice(&[0; 12]);
        t.extend_from_slice(body);
        let sum = t.iter().fold(0u8, |a, &b| a.wrapping_add(b));
        t[9] = 0u8.wrapping_sub(sum);
        t
    }

    /// QEMU's `pc` MADT as its ACPI builder writes it: LAPIC at 0xfee00000, one local APIC,
    /// IOAPIC 0 at 0xfec00000 from GSI 0, IRQ 0 on GSI 2, and IRQs 5, 9, 10, 11 active high,
    /// level triggered.
    fn qemu_madt() -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&0xfee0_0000u32.to_le_bytes());
        body.extend_from_slice(&1u32.to_le_bytes());
        body.extend_from_slice(&[0, 8, 0, 0, 1, 0, 0, 0]); // processor local APIC
        body.extend_from_slice(&[1, 12, 0, 0]);
        body.extend_from_slice(&0xfec0_0000u32.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        let mut iso = |source: u8, gsi: u32, flags: u16| {
            body.extend_from_slice(&[2, 10, 0, source]);
            body.extend_from_slice(&gsi.to_le_bytes());
            body.extend_from_slice(&flags.to_le_bytes());
        };
        iso(0, 2, 0);
        for irq in [5, 9, 10, 11] {
            iso(irq, u32::from(irq), 0x0d);
        }
        body.extend_from_slice(&[4, 6, 0xff, 0, 0, 1]); // local APIC NMI
        make_table(b"APIC", &body)
    }

    #[test]
    fn qemu_madt_routes_the_timer_and_pci_lines() {
        let m = madt(&qemu_madt()).unwrap();
        assert_eq!(m.lapic, 0xfee0_0000);
        assert_eq!(m.ioapics, [IoApic { id: 0, address: 0xfec0_0000, gsi_base: 0 }]);
        assert_eq!(m.overrides.len(), 5);
        // The PIT's IRQ 0 arrives on pin 2, conforming = ISA: edge, active high.
        assert_eq!(m.route(0, Bus::Isa), Route { gsi: 2, active_low: false, level: false });
        // QEMU says its PCI lines are active high (it does not model the inverter).
        assert_eq!(m.route(11, Bus::Pci), Route { gsi: 11, active_low: false, level: true });
        // A PCI line without an override gets the PCI defaults.
        assert_eq!(m.route(7, Bus::Pci), Route { gsi: 7, active_low: true, level: true });
        assert_eq!(m.route(4, Bus::Isa), Route { gsi: 4, active_low: false, level: false });
        assert_eq!(m.ioapic_for(11, |_| 24).map(|(_, pin)| pin), Some(11));
        assert_eq!(m.ioapic_for(24, |_| 24), None);
    }

    #[test]
    fn bad_tables_are_errors_not_panics() {
        let good = qemu_madt();
        let mut bad_sum = good.clone();
        bad_sum[40] ^= 1;
        assert_eq!(madt(&bad_sum), Err(AcpiError::Checksum));
        assert_eq!(madt(&good[..30]), Err(AcpiError::Length));
        assert_eq!(madt(&good[..good.len() - 1]), Err(AcpiError::Length));
        assert_eq!(madt(&make_table(b"FACP", &[0; 8])), Err(AcpiError::Signature));
        assert_eq!(madt(&make_table(b"APIC", &[0; 8])), Err(AcpiError::NoIoApic));
        // An entry claiming to run past the table, and one of length 0 (which would loop).
        let mut body = vec![0; 8];
        body.extend_from_slice(&[1, 40, 0, 0]);
        assert_eq!(madt(&make_table(b"APIC", &body)), Err(AcpiError::Length));
        body.truncate(8);
        body.extend_from_slice(&[1, 0, 0, 0]);
        assert_eq!(madt(&make_table(b"APIC", &body)), Err(AcpiError::Length));
        // Every truncation and every flipped byte is Ok or Err.
        for i in 0..good.len() {
            let _ = madt(&good[..i]);
            let mut flip = good.clone();
            flip[i] ^= 0xa5;
            let _ = madt(&flip);
        }
    }

    #[test]
    fn rsdp_picks_rsdt_or_xsdt() {
        let mut r = Vec::from(&b"RSD PTR "[..]);
        r.push(0);
        r.extend_from_slice(b"CAPOS ");
        r.push(0); // revision 0: ACPI 1.0, RSDT only
        r.extend_from_slice(&0x7fe_1234u32.to_le_bytes());
        let sum = r.iter().fold(0u8, |a, &b| a.wrapping_add(b));
        r[8] = 0u8.wrapping_sub(sum);
        assert_eq!(rsdp(&r), Ok(Root { address: 0x7fe_1234, wide: false }));
        r[16] ^= 1;
        assert_eq!(rsdp(&r), Err(AcpiError::Checksum));
        assert_eq!(rsdp(b"RSD PTX 0123456789ab"), Err(AcpiError::Signature));
        let rsdt = make_table(b"RSDT", &[0x00, 0x10, 0, 0, 0x00, 0x20, 0, 0]);
        assert_eq!(root_entries(&rsdt, Root { address: 0, wide: false }), Ok(vec![0x1000, 0x2000]));
    }
}
