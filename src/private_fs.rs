//! Files that may hold secrets or describe them (reports, redacted copies, the rotation
//! audit log, state and lock files): created mode 0600 (directories 0700) **before** a
//! byte is written, and an existing file is tightened to 0600 on open, because `open`
//! keeps the mode a file already had. One place for the three ways such files are
//! written: truncate, append, and replace atomically.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Creates `dir` and its parents with mode 0700 (an existing directory is left as is).
pub fn create_dir(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Creates the parent directory of `path` (mode 0700) if it has one.
fn create_parent(path: &Path) -> io::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => create_dir(dir),
        None => Ok(()),
    }
}

/// Opens `path` with `o` plus mode 0600 on creation, and tightens an existing file.
fn open_private(o: &mut OpenOptions, path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        o.mode(0o600);
        let f = o.open(path)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(f)
    }
    #[cfg(not(unix))]
    o.open(path)
}

/// Creates (or truncates) `path` with mode 0600 before anything is written to it.
pub fn create(path: &Path) -> io::Result<File> {
    open_private(
        OpenOptions::new().write(true).create(true).truncate(true),
        path,
    )
}

/// Opens `path` for appending (created 0600, parents 0700): each `write` of a whole record
/// lands at the end, so concurrent writers interleave whole records.
pub fn append(path: &Path) -> io::Result<File> {
    create_parent(path)?;
    open_private(OpenOptions::new().append(true).create(true), path)
}

/// Opens (creating 0600, parents 0700) `path` without changing its content: lock files.
pub fn open_keep(path: &Path) -> io::Result<File> {
    create_parent(path)?;
    open_private(
        OpenOptions::new().write(true).create(true).truncate(false),
        path,
    )
}

/// Replaces `path` with `bytes` atomically: written to a 0600 temporary file beside it,
/// synced, then renamed over it, so a crash leaves the old or the new content, never half.
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    create_parent(path)?;
    let mut tmp = path.to_path_buf().into_os_string();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = (|| {
        let mut f = create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn every_way_of_writing_gives_0600_and_tightens_existing_files() {
        let dir = tempfile::tempdir().unwrap();
        let loose = |name: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, "old").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            p
        };
        let p = loose("created");
        create(&p).unwrap().write_all(b"x").unwrap();
        assert_eq!(
            (mode(&p), std::fs::read(&p).unwrap()),
            (0o600, b"x".to_vec())
        );

        let p = loose("appended");
        append(&p).unwrap().write_all(b"+").unwrap();
        assert_eq!(
            (mode(&p), std::fs::read(&p).unwrap()),
            (0o600, b"old+".to_vec())
        );

        let p = loose("kept");
        drop(open_keep(&p).unwrap());
        assert_eq!(
            (mode(&p), std::fs::read(&p).unwrap()),
            (0o600, b"old".to_vec())
        );

        let p = dir.path().join("sub/dir/replaced");
        replace(&p, b"new").unwrap();
        assert_eq!(
            (mode(&p), std::fs::read(&p).unwrap()),
            (0o600, b"new".to_vec())
        );
        assert_eq!(mode(&dir.path().join("sub/dir")), 0o700);
        let left: Vec<_> = std::fs::read_dir(dir.path().join("sub/dir"))
            .unwrap()
            .collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }
}
