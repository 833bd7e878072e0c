//! Everything that can go wrong, each naming the CUE file and, where there is one, the field.
use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// The command line is wrong; the text says how.
    Usage(String),
    /// No runnable `cue` binary.
    CueMissing { tried: PathBuf, source: std::io::Error },
    /// `cue version` reported a different release than the one this tool is pinned to.
    CueVersion { cue: PathBuf, found: String },
    /// `cue export` refused the file (syntax, type or import error); its message is kept verbatim.
    CueFailed { file: PathBuf, message: String },
    /// `cue export` printed something that is not JSON.
    NotJson { file: PathBuf, why: String },
    /// A field of the evaluated manifest is wrong.
    Field { file: PathBuf, path: String, problem: Problem },
    /// A binary named in the manifest could not be read.
    ReadBinary { file: PathBuf, path: String, binary: PathBuf, source: std::io::Error },
    /// The output could not be written.
    Write { out: PathBuf, source: std::io::Error },
}

/// What is wrong with a field.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    UnknownField {
        allowed: &'static [&'static str],
    },
    Missing,
    WrongType {
        expected: &'static str,
    },
    BadValue {
        expected: String,
    },
    AbsolutePath,
    /// A rule of the shared manifest validator (capos_schema::manifest).
    Manifest(capos_schema::manifest::ManifestErrorKind),
    /// A rule of a service shape mkmanifest lowers (the wasm host); the text is the reason.
    Rule(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnknownField { allowed } => write!(f, "unknown field (allowed: {})", allowed.join(", ")),
            Problem::Missing => write!(f, "required field is missing"),
            Problem::WrongType { expected } => write!(f, "expected {expected}"),
            Problem::BadValue { expected } => write!(f, "expected {expected}"),
            Problem::AbsolutePath => write!(f, "binary paths are relative to the repository root"),
            Problem::Manifest(kind) => write!(f, "{kind}"),
            Problem::Rule(why) => f.write_str(why),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(why) => write!(f, "{why}\nusage: mkmanifest <file.cue> -o <manifest.bin> [--root <repo>] [--cue <cue binary>]"),
            Error::CueMissing { tried, source } => write!(
                f,
                "cannot run cue at {}: {source} (install it with `GOBIN=$PWD/build/tools go install cuelang.org/go/cmd/cue@{}` or pass --cue)",
                tried.display(),
                crate::cue::PINNED_VERSION
            ),
            Error::CueVersion { cue, found } => write!(
                f,
                "{} is cue {found}, mkmanifest is pinned to {}",
                cue.display(),
                crate::cue::PINNED_VERSION
            ),
            Error::CueFailed { file, message } => write!(f, "{}: cue export failed:\n{message}", file.display()),
            Error::NotJson { file, why } => write!(f, "{}: cue export output is not json: {why}", file.display()),
            Error::Field { file, path, problem } => write!(f, "{}: {path}: {problem}", file.display()),
            Error::ReadBinary { file, path, binary, source } => {
                write!(f, "{}: {path}: cannot read {}: {source}", file.display(), binary.display())
            }
            Error::Write { out, source } => write!(f, "cannot write {}: {source}", out.display()),
        }
    }
}

impl std::error::Error for Error {}
