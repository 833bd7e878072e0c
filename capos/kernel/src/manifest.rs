//! The boot manifest: the PVH initrd module, decoded and validated once at boot with the
//! schema crate's rules (the same ones mkmanifest and init apply), then kept for the whole run.

use crate::kcell::KCell;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use capos_schema::manifest::{self, Manifest};

struct Boot {
    manifest: Option<&'static Manifest<'static>>,
}

static BOOT: KCell<Boot> = KCell::new(Boot { manifest: None });

// region: manifest
/// Decodes and validates `bytes`; the decoded form borrows them forever (they are never freed).
pub fn init(bytes: &'static [u8]) -> Result<(), String> {
    let reader = manifest::read(bytes).map_err(|e| format!("{e}"))?;
    let reader: &'static _ = Box::leak(Box::new(reader));
    let decoded = manifest::decode(reader).map_err(|e| format!("{e}"))?;
    let mut boot = BOOT.borrow_mut();
    boot.manifest = Some(Box::leak(Box::new(decoded)));
    Ok(())
}
// endregion: manifest

/// The validated manifest. Only called after [`init`] succeeded (kmain stops otherwise).
pub fn get() -> &'static Manifest<'static> {
    BOOT.borrow_mut().manifest.expect("manifest used before boot decoded it")
}
