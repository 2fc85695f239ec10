//! Which files a directory scan visits: `.gitignore`/`.ignore` rules, globs, hidden
//! files and symlinks, through the `ignore` crate. It decides *what* to scan, never how.

use std::path::{Path, PathBuf};

use ignore::overrides::OverrideBuilder;
use ignore::WalkBuilder;

use crate::error::Error;

/// Walk settings.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Do not honour `.gitignore`, `.ignore` and git's exclude files.
    pub no_ignore: bool,
    /// Skip hidden files and directories (scanned by default: `.env` files live there).
    pub skip_hidden: bool,
    /// Follow symbolic links (loops are detected and reported).
    pub follow_links: bool,
    /// ripgrep-style globs: `GLOB` includes, `!GLOB` excludes.
    pub globs: Vec<String>,
    /// Globs to exclude.
    pub excludes: Vec<String>,
    /// Descend at most this deep.
    pub max_depth: Option<usize>,
}

/// Builds the walker over `roots`.
pub fn build(roots: &[PathBuf], opts: &WalkOptions) -> Result<ignore::Walk, Error> {
    Ok(builder(roots, opts)?.build())
}

/// The same walk, listed by `threads` threads that each also scan what they list (as
/// ripgrep does): a single listing thread feeding the scanners serialised directory reads
/// and ignore-file matching, and handed every file from thread to thread.
pub fn build_parallel(
    roots: &[PathBuf],
    opts: &WalkOptions,
    threads: usize,
) -> Result<ignore::WalkParallel, Error> {
    Ok(builder(roots, opts)?.threads(threads).build_parallel())
}

fn builder(roots: &[PathBuf], opts: &WalkOptions) -> Result<WalkBuilder, Error> {
    let first = roots.first().map_or(Path::new("."), PathBuf::as_path);
    let mut b = WalkBuilder::new(first);
    for r in roots.iter().skip(1) {
        b.add(r);
    }
    b.hidden(opts.skip_hidden)
        .follow_links(opts.follow_links)
        .max_depth(opts.max_depth)
        .git_ignore(!opts.no_ignore)
        .git_global(!opts.no_ignore)
        .git_exclude(!opts.no_ignore)
        .ignore(!opts.no_ignore)
        .parents(!opts.no_ignore)
        // Never descend into a repository's object store: the git sweep reads history.
        .filter_entry(|e| !(e.file_name() == ".git" && e.file_type().is_some_and(|t| t.is_dir())));
    if !opts.globs.is_empty() || !opts.excludes.is_empty() {
        let base = if first.is_dir() {
            first
        } else {
            Path::new(".")
        };
        let mut ob = OverrideBuilder::new(base);
        for g in &opts.globs {
            ob.add(g)
                .map_err(|e| Error::Other(format!("--glob {g:?}: {e}")))?;
        }
        for g in &opts.excludes {
            let neg = if let Some(rest) = g.strip_prefix('!') {
                rest.to_string()
            } else {
                format!("!{g}")
            };
            ob.add(&neg)
                .map_err(|e| Error::Other(format!("--exclude {g:?}: {e}")))?;
        }
        b.overrides(
            ob.build()
                .map_err(|e| Error::Other(format!("globs: {e}")))?,
        );
    }
    Ok(b)
}
