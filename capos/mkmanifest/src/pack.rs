//! From checked JSON to manifest.bin: read the binaries, run the shared validator, encode, check
//! the encoded bytes decode to the same manifest, write atomically.
use crate::error::{Error, Problem};
use crate::json::{GrantFrom, ManifestSource};
use capos_schema::manifest::{self, Binary, DeviceSpec, Grant, GrantSource, KernelParams, Manifest, Service};
use capos_schema::wire::AlignedBuf;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Reads every binary's file, in manifest order.
pub fn read_binaries(file: &Path, root: &Path, src: &ManifestSource) -> Result<Vec<Vec<u8>>, Error> {
    src.binaries
        .iter()
        .map(|b| {
            let binary = root.join(&b.path);
            fs::read(&binary).map_err(|source| Error::ReadBinary {
                file: file.to_path_buf(),
                path: format!("binaries.{}.path", b.name),
                binary,
                source,
            })
        })
        .collect()
}

/// The manifest view over the sources and the bytes read for them.
pub fn assemble<'a>(src: &'a ManifestSource, data: &'a [Vec<u8>]) -> Manifest<'a> {
    Manifest {
        schema_version: src.schema_version,
        binaries: src
            .binaries
            .iter()
            .zip(data)
            .map(|(b, bytes)| Binary { name: &b.name, kind: b.kind, data: bytes })
            .collect(),
        services: src
            .services
            .iter()
            .map(|s| Service {
                name: &s.name,
                binary: &s.binary,
                grants: s
                    .grants
                    .iter()
                    .map(|g| Grant {
                        name: &g.name,
                        source: match &g.from {
                            GrantFrom::Kernel(cap) => GrantSource::Kernel(*cap),
                            GrantFrom::Blob(name) => GrantSource::Blob(name),
                            GrantFrom::Text(text) => GrantSource::Text(text),
                            GrantFrom::Export(name) => GrantSource::Export(name),
                            GrantFrom::Import(import) => GrantSource::Import(import),
                            GrantFrom::Device(name) => GrantSource::Device(name),
                        },
                    })
                    .collect(),
                supervision: crate::supervision::view(&s.supervision),
            })
            .collect(),
        kernel_params: KernelParams { trace_errors: src.trace_errors },
        devices: src
            .devices
            .iter()
            .map(|d| DeviceSpec {
                name: &d.name,
                vendor: d.vendor,
                device: d.device,
                class: d.class,
                interrupt: d.interrupt,
                dma_bytes: d.dma_bytes,
            })
            .collect(),
    }
}

/// Validates with the rules kernel and init apply, then encodes and proves the bytes decode back
/// to the same manifest.
pub fn encode_checked(file: &Path, m: &Manifest<'_>) -> Result<Vec<u8>, Error> {
    let field_error = |e: manifest::ManifestError| Error::Field {
        file: file.to_path_buf(),
        // The validator names a binary's bytes `.data`; in CUE they come from `.path`.
        path: match e.path.strip_suffix(".data") {
            Some(binary) => format!("{binary}.path"),
            None => e.path,
        },
        problem: Problem::Manifest(e.kind),
    };
    manifest::validate(m).map_err(field_error)?;
    let bytes = manifest::encode(m);
    let copy = AlignedBuf::copy_from(&bytes);
    let message = manifest::read(&copy).map_err(field_error)?;
    let decoded = manifest::decode(&message).map_err(field_error)?;
    assert_eq!(&decoded, m, "manifest encoding does not round-trip");
    Ok(bytes)
}

/// Writes `bytes` to `out` through a temporary file in the same directory and a rename, so a
/// reader never sees half a manifest and a failed run leaves the old one in place.
pub fn write_atomic(out: &Path, bytes: &[u8]) -> Result<(), Error> {
    let err = |source| Error::Write { out: out.to_path_buf(), source };
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(err)?;
    let name = out.file_name().ok_or_else(|| err(std::io::Error::other("output is not a file name")))?;
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, out)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}
