//! mkmanifest: a CUE system manifest → a validated Cap'n Proto `SystemManifest` (manifest.bin).
//!
//! 1. `cue export --out json` evaluates the file with the real cue tool ([`cue`]);
//! 2. the JSON is checked field by field with closed structs ([`json`]);
//! 3. the binaries are read, the shared validator of capos-schema runs, the message is encoded,
//!    decoded again and written atomically ([`pack`]).
//!
//! Every error names the CUE file and the field path.
pub mod cue;
pub mod devices;
pub mod error;
pub mod json;
pub mod pack;
pub mod supervision;
pub mod wasm;

pub use error::{Error, Problem};
use std::path::{Path, PathBuf};

#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    pub input: PathBuf,
    pub output: PathBuf,
    pub root: PathBuf,
    pub cue: Option<PathBuf>,
}

/// Parses `<file.cue> -o <manifest.bin> [--root <repo>] [--cue <path>]`.
pub fn parse_args(args: &[String]) -> Result<Options, Error> {
    let mut input = None;
    let mut output = None;
    let mut root = PathBuf::from(".");
    let mut cue = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| it.next().cloned().ok_or_else(|| Error::Usage(format!("{flag} needs a value")));
        match arg.as_str() {
            "-o" | "--output" => output = Some(PathBuf::from(value(arg)?)),
            "--root" => root = PathBuf::from(value(arg)?),
            "--cue" => cue = Some(PathBuf::from(value(arg)?)),
            flag if flag.starts_with('-') => return Err(Error::Usage(format!("unknown option {flag}"))),
            file if input.is_none() => input = Some(PathBuf::from(file)),
            extra => return Err(Error::Usage(format!("one manifest at a time (unexpected {extra})"))),
        }
    }
    let input = input.ok_or_else(|| Error::Usage("no manifest file given".into()))?;
    let output = output.ok_or_else(|| Error::Usage("no output given (-o)".into()))?;
    Ok(Options { input, output, root, cue })
}

/// What was written, for the one-line report.
#[derive(Debug)]
pub struct Summary {
    pub bytes: usize,
    pub binaries: usize,
    pub services: usize,
}

/// Packs a manifest from already evaluated JSON (the part after `cue export`).
pub fn pack_json(file: &Path, json_text: &str, root: &Path) -> Result<(Vec<u8>, Summary), Error> {
    let value: serde_json::Value =
        serde_json::from_str(json_text).map_err(|e| Error::NotJson { file: file.to_path_buf(), why: e.to_string() })?;
    let src =
        json::parse(&value).map_err(|e| Error::Field { file: file.to_path_buf(), path: e.path, problem: e.problem })?;
    let data = pack::read_binaries(file, root, &src)?;
    let manifest = pack::assemble(&src, &data);
    let bytes = pack::encode_checked(file, &manifest)?;
    let summary = Summary { bytes: bytes.len(), binaries: src.binaries.len(), services: src.services.len() };
    Ok((bytes, summary))
}

/// The whole tool: evaluate, validate, write.
pub fn run(opts: &Options) -> Result<Summary, Error> {
    let cue = cue::locate(opts.cue.as_deref(), &opts.root);
    cue::check_version(&cue)?;
    let json_text = cue::export(&cue, &opts.input)?;
    let (bytes, summary) = pack_json(&opts.input, &json_text, &opts.root)?;
    pack::write_atomic(&opts.output, &bytes)?;
    Ok(summary)
}
