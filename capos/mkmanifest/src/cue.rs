//! Running the real `cue` tool: `cue export --out json <file>`.
use crate::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The cue release this project is tested with (cuelang.org/go/cmd/cue). The file is also what
/// set-up reads to install that release, so the two cannot disagree.
pub const PINNED_VERSION: &str = include_str!("../cue-version").trim_ascii();

/// Where to find cue: an explicit path, else `$CUE`, else `build/tools/cue` under the root or the
/// current directory (where set-up installs it), else `cue` on PATH.
pub fn locate(explicit: Option<&Path>, root: &Path) -> PathBuf {
    // cue runs in the manifest's directory, so a relative path to it must be made absolute first.
    if let Some(path) = explicit {
        return if path.components().count() > 1 {
            path.canonicalize().unwrap_or(path.to_path_buf())
        } else {
            path.to_path_buf()
        };
    }
    if let Some(path) = std::env::var_os("CUE") {
        let path = PathBuf::from(path);
        return path.canonicalize().unwrap_or(path);
    }
    [root.join("build/tools/cue"), PathBuf::from("build/tools/cue")]
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("cue"))
}

/// Checks the first line of `cue version` names the pinned release.
pub fn check_version(cue: &Path) -> Result<(), Error> {
    let output = Command::new(cue)
        .arg("version")
        .output()
        .map_err(|source| Error::CueMissing { tried: cue.to_path_buf(), source })?;
    let text = String::from_utf8_lossy(&output.stdout);
    let first = text.lines().next().unwrap_or("").trim();
    let found = first.strip_prefix("cue version ").unwrap_or(first);
    if found == PINNED_VERSION {
        Ok(())
    } else {
        Err(Error::CueVersion { cue: cue.to_path_buf(), found: found.to_string() })
    }
}

// region: export
/// Evaluates one CUE file to JSON text. cue is run in the file's directory so that it finds the
/// enclosing module (`cue.mod/`) and resolves `capos.local/...` imports against it; only this one
/// file of its package is evaluated.
pub fn export(cue: &Path, file: &Path) -> Result<String, Error> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = file.file_name().ok_or_else(|| Error::Usage(format!("{} is not a file", file.display())))?;
    let output = Command::new(cue)
        .current_dir(dir)
        .args(["export", "--out", "json"])
        .arg(name)
        .output()
        .map_err(|source| Error::CueMissing { tried: cue.to_path_buf(), source })?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr).trim_end().to_string();
        return Err(Error::CueFailed { file: file.to_path_buf(), message });
    }
    String::from_utf8(output.stdout).map_err(|e| Error::NotJson { file: file.to_path_buf(), why: e.to_string() })
}
// endregion: export
