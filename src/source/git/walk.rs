//! Enumerating history: which commits to visit, in which order, and which (path, blob)
//! pairs each commit introduces.
//!
//! Commits are ordered oldest-first topologically: a commit comes after all its parents,
//! and among commits whose parents are all placed, the one with the smaller commit time
//! (then the smaller id) comes first. The order depends only on the commit graph, never on
//! the order refs were listed, so attribution is the same on every run.
//!
//! A commit *introduces* a (path, blob) pair when its tree has that blob at that path and
//! none of its parents does. Merges are compared against every parent, so a merge
//! introduces only what none of its parents had (conflict resolutions, evil merges); root
//! commits (and shallow boundaries) introduce their whole tree. The comparison walks both
//! trees at once and skips any subtree that one parent has unchanged, so a commit costs
//! what it changed, not the size of its tree.
//!
//! Nothing here reads blobs or scans: this module only names them.

use std::collections::{BinaryHeap, HashMap, HashSet};

use git2::{ObjectType, Oid, Repository, Tree};

/// Git file modes, as stored in trees.
pub mod mode {
    /// A directory.
    pub const TREE: i32 = 0o040_000;
    /// A submodule (gitlink): a commit of another repository.
    pub const GITLINK: i32 = 0o160_000;
    /// A symbolic link: its blob is the link target, not content.
    pub const SYMLINK: i32 = 0o120_000;
}

/// A commit in the walk.
#[derive(Debug, Clone)]
pub struct CommitNode {
    /// Its id.
    pub id: Oid,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    /// Its parents' ids (parents outside the walk are boundaries).
    pub parents: Vec<Oid>,
}

/// An object that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectProblem {
    /// What it is and where it was met (`commit 1a2b…`, `tree 3c4d… (src/)`).
    pub object: String,
    /// `missing` or `corrupt`.
    pub reason: &'static str,
    /// libgit2's message.
    pub detail: String,
}

impl ObjectProblem {
    /// Classifies a libgit2 error on reading `object`.
    pub fn new(object: String, err: &git2::Error) -> ObjectProblem {
        let reason = if err.code() == git2::ErrorCode::NotFound {
            "missing"
        } else {
            "corrupt"
        };
        ObjectProblem {
            object,
            reason,
            detail: err.message().to_string(),
        }
    }
}

/// Reads the commits reachable from `tips` (following every parent), skipping and naming
/// those that cannot be read. In a shallow repository, parents beyond the boundary are
/// expected to be missing and are not problems.
pub fn collect_reachable(
    repo: &Repository,
    tips: &[Oid],
    problems: &mut Vec<ObjectProblem>,
) -> Vec<CommitNode> {
    let shallow = repo.is_shallow();
    let mut seen: HashSet<Oid> = HashSet::new();
    let mut stack: Vec<Oid> = tips.to_vec();
    let mut out = Vec::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        match repo.find_commit(id) {
            Ok(c) => {
                let parents: Vec<Oid> = c.parent_ids().collect();
                stack.extend(parents.iter().copied());
                out.push(CommitNode {
                    id,
                    time: c.time().seconds(),
                    parents,
                });
            }
            Err(e) if shallow && e.code() == git2::ErrorCode::NotFound => {}
            Err(e) => problems.push(ObjectProblem::new(format!("commit {id}"), &e)),
        }
    }
    out
}

/// Reads the commits with the given ids (from a revwalk), naming those that fail.
pub fn load_commits(
    repo: &Repository,
    ids: &[Oid],
    problems: &mut Vec<ObjectProblem>,
) -> Vec<CommitNode> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        match repo.find_commit(id) {
            Ok(c) => out.push(CommitNode {
                id,
                time: c.time().seconds(),
                parents: c.parent_ids().collect(),
            }),
            Err(e) => problems.push(ObjectProblem::new(format!("commit {id}"), &e)),
        }
    }
    out
}

/// Orders commits oldest-first: parents (within the set) before children, then by commit
/// time, then by id. Runs in O(n log n) and never fails, even on a graph with a cycle
/// (impossible in git, but a corrupt repository may claim one): what is left is appended
/// in time order.
pub fn topo_order(mut commits: Vec<CommitNode>) -> Vec<CommitNode> {
    let index: HashMap<Oid, usize> = commits.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let mut pending = vec![0usize; commits.len()];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); commits.len()];
    for (i, c) in commits.iter().enumerate() {
        let mut uniq: Vec<usize> = c
            .parents
            .iter()
            .filter_map(|p| index.get(p).copied())
            .collect();
        uniq.sort_unstable();
        uniq.dedup();
        for p in uniq {
            if let Some(pend) = pending.get_mut(i) {
                *pend += 1;
            }
            if let Some(ch) = children.get_mut(p) {
                ch.push(i);
            }
        }
    }
    let key = |c: &CommitNode| std::cmp::Reverse((c.time, c.id));
    let mut ready: BinaryHeap<(std::cmp::Reverse<(i64, Oid)>, usize)> = commits
        .iter()
        .enumerate()
        .filter(|(i, _)| pending.get(*i) == Some(&0))
        .map(|(i, c)| (key(c), i))
        .collect();
    let mut order = Vec::with_capacity(commits.len());
    let mut placed = vec![false; commits.len()];
    while let Some((_, i)) = ready.pop() {
        order.push(i);
        if let Some(p) = placed.get_mut(i) {
            *p = true;
        }
        for &ch in children.get(i).map_or(&[][..], Vec::as_slice) {
            if let Some(pend) = pending.get_mut(ch) {
                *pend -= 1;
                if *pend == 0 {
                    if let Some(c) = commits.get(ch) {
                        ready.push((key(c), ch));
                    }
                }
            }
        }
    }
    if order.len() < commits.len() {
        let mut rest: Vec<usize> = (0..commits.len())
            .filter(|&i| !placed.get(i).copied().unwrap_or(true))
            .collect();
        rest.sort_by_key(|&i| commits.get(i).map(|c| (c.time, c.id)));
        order.extend(rest);
    }
    let mut slots: Vec<Option<CommitNode>> = commits.drain(..).map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect()
}

/// What one commit changes, relative to its parents.
#[derive(Debug, Default)]
pub struct CommitChanges {
    /// (path, blob) pairs the commit introduces.
    pub added: Vec<(Vec<u8>, Oid)>,
    /// Blobs its parents had at paths it changed or deleted (kept only when asked: range
    /// and staged scans need the "before" side).
    pub before: Vec<Oid>,
    /// Submodule paths it introduces (not followed).
    pub submodules: Vec<Vec<u8>>,
    /// Trees that could not be read.
    pub problems: Vec<ObjectProblem>,
}

/// Compares `commit`'s tree with its parents' trees. `want_before` also records the
/// parents' versions of changed and deleted paths.
pub fn commit_changes(repo: &Repository, commit: &CommitNode, want_before: bool) -> CommitChanges {
    let mut out = CommitChanges::default();
    let tree = match repo.find_commit(commit.id).and_then(|c| c.tree()) {
        Ok(t) => t,
        Err(e) => {
            out.problems.push(ObjectProblem::new(
                format!("tree of commit {}", commit.id),
                &e,
            ));
            return out;
        }
    };
    let mut parents = Vec::with_capacity(commit.parents.len());
    for p in &commit.parents {
        // A parent that cannot be read (shallow boundary, missing object) is treated as
        // absent: this commit then introduces what it has. Its absence was already
        // reported when commits were collected.
        if let Ok(t) = repo.find_commit(*p).and_then(|c| c.tree()) {
            parents.push(t);
        }
    }
    let parent_refs: Vec<Option<&Tree<'_>>> = parents.iter().map(Some).collect();
    let mut prefix = Vec::new();
    diff_level(
        repo,
        &tree,
        &parent_refs,
        &mut prefix,
        want_before,
        &mut out,
    );
    out
}

fn join(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(prefix.len() + name.len());
    p.extend_from_slice(prefix);
    p.extend_from_slice(name);
    p
}

fn is_tree(filemode: i32) -> bool {
    filemode == mode::TREE
}

fn is_content_blob(filemode: i32) -> bool {
    filemode & 0o170_000 == 0o100_000
}

fn diff_level(
    repo: &Repository,
    tree: &Tree<'_>,
    parents: &[Option<&Tree<'_>>],
    prefix: &mut Vec<u8>,
    want_before: bool,
    out: &mut CommitChanges,
) {
    for entry in tree.iter() {
        let name = entry.name_bytes();
        let id = entry.id();
        let fm = entry.filemode();
        let olds: Vec<Option<(Oid, i32)>> = parents
            .iter()
            .map(|p| {
                p.and_then(|t| t.get_name_bytes(name))
                    .map(|e| (e.id(), e.filemode()))
            })
            .collect();
        let unchanged = olds
            .iter()
            .flatten()
            .any(|&(oid, ofm)| oid == id && is_tree(ofm) == is_tree(fm));
        if unchanged {
            continue;
        }
        if want_before {
            for &(oid, ofm) in olds.iter().flatten() {
                if is_content_blob(ofm) {
                    out.before.push(oid);
                }
            }
        }
        if is_tree(fm) {
            let sub = match repo.find_tree(id) {
                Ok(t) => t,
                Err(e) => {
                    out.problems.push(ObjectProblem::new(
                        format!(
                            "tree {id} ({})",
                            String::from_utf8_lossy(&join(prefix, name))
                        ),
                        &e,
                    ));
                    continue;
                }
            };
            // A parent whose entry here is a tree that cannot be read is treated as absent.
            let old_trees: Vec<Option<Tree<'_>>> = olds
                .iter()
                .map(|o| match o {
                    Some((oid, ofm)) if is_tree(*ofm) => repo.find_tree(*oid).ok(),
                    _ => None,
                })
                .collect();
            let old_refs: Vec<Option<&Tree<'_>>> = old_trees.iter().map(Option::as_ref).collect();
            let len = prefix.len();
            prefix.extend_from_slice(name);
            prefix.push(b'/');
            diff_level(repo, &sub, &old_refs, prefix, want_before, out);
            prefix.truncate(len);
        } else if fm == mode::GITLINK {
            out.submodules.push(join(prefix, name));
        } else if is_content_blob(fm) {
            out.added.push((join(prefix, name), id));
        }
        // Symbolic links hold a link target, not content: not scanned.
    }
    if want_before {
        // Entries a parent has and this tree lacks (deleted, or replaced by another kind).
        for parent in parents.iter().flatten() {
            for old in parent.iter() {
                let gone = match tree.get_name_bytes(old.name_bytes()) {
                    None => true,
                    Some(now) => is_tree(now.filemode()) != is_tree(old.filemode()),
                };
                if gone && is_tree(old.filemode()) {
                    if let Ok(sub) = repo.find_tree(old.id()) {
                        all_blobs(repo, &sub, &mut out.before);
                    }
                } else if gone && is_content_blob(old.filemode()) {
                    out.before.push(old.id());
                }
            }
        }
    }
}

/// Appends every content blob under `tree` (unreadable subtrees are left out).
pub fn all_blobs(repo: &Repository, tree: &Tree<'_>, out: &mut Vec<Oid>) {
    for e in tree.iter() {
        let fm = e.filemode();
        if is_tree(fm) {
            if let Ok(sub) = repo.find_tree(e.id()) {
                all_blobs(repo, &sub, out);
            }
        } else if is_content_blob(fm) && e.kind() == Some(ObjectType::Blob) {
            out.push(e.id());
        }
    }
}

/// The content blobs of a commit's tree, for `present_at_head`.
pub fn tree_blobs(repo: &Repository, commit: Oid) -> Result<HashSet<Oid>, git2::Error> {
    let tree = repo.find_commit(commit)?.tree()?;
    let mut v = Vec::new();
    all_blobs(repo, &tree, &mut v);
    Ok(v.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(n: u8, time: i64, parents: &[u8]) -> CommitNode {
        CommitNode {
            id: Oid::from_bytes(&[n; 20]).unwrap(),
            time,
            parents: parents
                .iter()
                .map(|&p| Oid::from_bytes(&[p; 20]).unwrap())
                .collect(),
        }
    }

    #[test]
    fn parents_come_first_even_with_clock_skew() {
        // 2's clock is behind its parent 1; 3 is an unrelated root at time 5.
        let commits = vec![
            node(2, 1, &[1]),
            node(1, 10, &[]),
            node(3, 5, &[]),
            node(4, 20, &[2, 3]),
        ];
        let order: Vec<u8> = topo_order(commits)
            .iter()
            .map(|c| c.id.as_bytes()[0])
            .collect();
        assert_eq!(order, vec![3, 1, 2, 4]);
    }

    #[test]
    fn ties_break_by_id_and_cycles_do_not_hang() {
        let commits = vec![node(9, 1, &[]), node(7, 1, &[])];
        let order: Vec<u8> = topo_order(commits)
            .iter()
            .map(|c| c.id.as_bytes()[0])
            .collect();
        assert_eq!(order, vec![7, 9]);
        let cyclic = vec![node(1, 1, &[2]), node(2, 2, &[1]), node(3, 0, &[])];
        assert_eq!(topo_order(cyclic).len(), 3);
    }
}
