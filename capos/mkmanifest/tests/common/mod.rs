//! What the end-to-end tests share: the pinned cue and a fresh scratch tree per case.
use std::fs;
use std::path::{Path, PathBuf};

/// The repository root (mkmanifest sits at capos/mkmanifest).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The pinned cue: $CUE, or build/tools/cue under the repository root.
pub fn cue() -> PathBuf {
    let path = std::env::var_os("CUE").map_or_else(|| repo().join("build/tools/cue"), PathBuf::from);
    assert!(path.is_file(), "cue not found at {} (install it as the README says, or set CUE)", path.display());
    path
}

/// An empty repo-like tree for one case (build/ and manifests/cue.mod/), left over from no earlier run.
pub fn scratch(group: &str, case: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(group).join(case);
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(root.join("build")).unwrap();
    fs::create_dir_all(root.join("manifests/cue.mod")).unwrap();
    root
}
