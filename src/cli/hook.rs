//! `leaksweep hook install|uninstall`: puts the pre-commit / pre-push hook scripts of
//! `hooks/` into a repository, honouring `core.hooksPath`, chaining a hook that is already
//! there instead of overwriting it, and restoring it on uninstall.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Subcommand;

use super::EXIT_CLEAN;

/// The hook scripts, embedded so the installed hook matches this binary.
const PRE_COMMIT: &str = include_str!("../../hooks/pre-commit");
const PRE_PUSH: &str = include_str!("../../hooks/pre-push");
/// Marks a hook file as written by leaksweep.
const MARKER: &str = "# leaksweep-hook:";
/// Suffix of the chained, pre-existing hook.
const CHAINED_SUFFIX: &str = ".pre-leaksweep";

/// `leaksweep hook ...`
#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install the pre-commit hook (or the pre-push hook with --pre-push). An existing hook
    /// is kept as <name>.pre-leaksweep and runs first.
    Install {
        /// Install the pre-push hook instead of the pre-commit hook.
        #[arg(long)]
        pre_push: bool,
        /// The repository (default: the one containing the current directory).
        #[arg(long, value_name = "DIR", default_value = ".")]
        repo: PathBuf,
    },
    /// Remove the hook installed by `hook install` and restore the chained one, if any.
    Uninstall {
        /// Uninstall the pre-push hook instead of the pre-commit hook.
        #[arg(long)]
        pre_push: bool,
        /// The repository (default: the one containing the current directory).
        #[arg(long, value_name = "DIR", default_value = ".")]
        repo: PathBuf,
    },
}

/// Runs a `hook` subcommand.
pub fn run(cmd: HookCommand) -> anyhow::Result<i32> {
    match cmd {
        HookCommand::Install { pre_push, repo } => install(&repo, pre_push),
        HookCommand::Uninstall { pre_push, repo } => uninstall(&repo, pre_push),
    }
}

fn hook_name(pre_push: bool) -> &'static str {
    if pre_push {
        "pre-push"
    } else {
        "pre-commit"
    }
}

/// The directory git runs hooks from: `core.hooksPath` (relative to the worktree root, `~/`
/// expanded) or the common git directory's `hooks/` (shared by linked worktrees).
pub fn hooks_dir(repo: &Path) -> anyhow::Result<PathBuf> {
    let r = git2::Repository::discover(repo).with_context(|| {
        format!(
            "{} is not inside a git repository (run this in your repository or pass --repo DIR)",
            repo.display()
        )
    })?;
    let configured = r
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok());
    if let Some(p) = configured {
        let p = match p.strip_prefix("~") {
            Ok(rest) => std::env::var_os("HOME").map_or(p.clone(), |h| PathBuf::from(h).join(rest)),
            Err(_) => p,
        };
        if p.is_absolute() {
            return Ok(p);
        }
        let base = r.workdir().unwrap_or_else(|| r.path());
        return Ok(base.join(p));
    }
    Ok(r.commondir().join("hooks"))
}

fn is_ours(path: &Path) -> bool {
    fs::read_to_string(path).is_ok_and(|t| t.lines().take(3).any(|l| l.starts_with(MARKER)))
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn script(pre_push: bool) -> String {
    let text = if pre_push { PRE_PUSH } else { PRE_COMMIT };
    // Point the installed hook at this binary; it falls back to PATH if that moves.
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.to_str().map(str::to_string));
    match exe {
        Some(exe) => text.replacen(
            "LEAKSWEEP_DEFAULT=leaksweep",
            &format!(
                "LEAKSWEEP_DEFAULT={}\n[ -x \"$LEAKSWEEP_DEFAULT\" ] || LEAKSWEEP_DEFAULT=leaksweep",
                shell_quote(&exe)
            ),
            1,
        ),
        None => text.to_string(),
    }
}

fn write_executable(path: &Path, text: &str) -> anyhow::Result<()> {
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", path.display()))?;
    }
    Ok(())
}

fn install(repo: &Path, pre_push: bool) -> anyhow::Result<i32> {
    let dir = hooks_dir(repo)?;
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = hook_name(pre_push);
    let target = dir.join(name);
    let chained = dir.join(format!("{name}{CHAINED_SUFFIX}"));
    if target.exists() && !is_ours(&target) {
        if chained.exists() {
            bail!(
                "{} exists and so does {}: leaksweep will not overwrite either. Merge them by \
                 hand, or remove {} and run `leaksweep hook install` again",
                target.display(),
                chained.display(),
                chained.display()
            );
        }
        fs::rename(&target, &chained)
            .with_context(|| format!("keeping the existing hook as {}", chained.display()))?;
        eprintln!(
            "leaksweep: kept the existing {name} hook as {}; it runs before leaksweep",
            chained.display()
        );
    }
    write_executable(&target, &script(pre_push))?;
    eprintln!(
        "leaksweep: installed the {name} hook in {}",
        target.display()
    );
    Ok(EXIT_CLEAN)
}

fn uninstall(repo: &Path, pre_push: bool) -> anyhow::Result<i32> {
    let dir = hooks_dir(repo)?;
    let name = hook_name(pre_push);
    let target = dir.join(name);
    let chained = dir.join(format!("{name}{CHAINED_SUFFIX}"));
    if !target.exists() {
        eprintln!("leaksweep: no {name} hook in {}", dir.display());
    } else if !is_ours(&target) {
        bail!(
            "{} was not installed by leaksweep; left alone",
            target.display()
        );
    } else {
        fs::remove_file(&target).with_context(|| format!("removing {}", target.display()))?;
        eprintln!(
            "leaksweep: removed the {name} hook from {}",
            target.display()
        );
    }
    if chained.exists() && !target.exists() {
        fs::rename(&chained, &target).with_context(|| format!("restoring {}", target.display()))?;
        eprintln!("leaksweep: restored the previous {name} hook");
    }
    Ok(EXIT_CLEAN)
}
