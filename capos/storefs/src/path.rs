//! Path checking: a path is relative, `/`-separated, and every component is a real name.
use crate::error::FsError;
use alloc::vec::Vec;

/// The longest name one directory entry holds.
pub const MAX_NAME: usize = 255;

/// The components of `path`; "" is the namespace's own root (no components). Refused with
/// `InvalidName`: absolute paths, empty components (`a//b`, a trailing `/`), `.`, `..`, NUL,
/// names over [`MAX_NAME`] bytes. Nothing is ever resolved above the namespace's root.
pub fn components(path: &str) -> Result<Vec<&str>, FsError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    if path.starts_with('/') {
        return Err(FsError::InvalidName);
    }
    path.split('/').map(check_name).collect()
}

pub fn check_name(name: &str) -> Result<&str, FsError> {
    if name.is_empty() || name == "." || name == ".." || name.contains('\0') || name.len() > MAX_NAME {
        return Err(FsError::InvalidName);
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_everything_that_could_escape_or_is_not_a_name() {
        for bad in ["/a", "..", "a/..", "../a", "a//b", "a/", ".", "a/./b", "a\0b", &"x".repeat(256)] {
            assert_eq!(components(bad), Err(FsError::InvalidName), "{bad:?}");
        }
        assert_eq!(components("").unwrap(), Vec::<&str>::new());
        assert_eq!(components("a/b.c/..d").unwrap(), ["a", "b.c", "..d"]);
    }
}
