//! Attribution: from per-blob findings to one finding per (secret, path), naming the
//! commit that introduced it there.
//!
//! Each blob is scanned once; a blob may have been introduced by several commits at
//! several paths. For every (fingerprint, path) the earliest introducing commit in the
//! walk's order wins (parents before children, then commit time, then id: see
//! [`super::walk`]), and within that blob the first occurrence by offset. An edit that
//! keeps a secret creates a new blob at the same path, but the earlier commit still wins,
//! so the secret stays attributed to whoever first wrote it.

use std::collections::{HashMap, HashSet};

use git2::{Oid, Repository};

use crate::finding::{Finding, GitProvenance, Occurrence};

/// Per-blob scan results and where each blob was introduced, by index.
pub struct Attribution<'a> {
    /// Commit ids by rank (walk order).
    pub commits: &'a [Oid],
    /// Interned paths.
    pub paths: &'a [Vec<u8>],
    /// (blob, commit rank, path) introductions, sorted by blob.
    pub intros: &'a [(u32, u32, u32)],
    /// Findings of each blob that has any, sorted by blob.
    pub blob_findings: &'a [(u32, Vec<Finding>)],
}

/// One reported (fingerprint, path): which blob finding represents it, and where else it
/// occurs.
struct Group {
    rank: u32,
    blob_pos: usize,
    finding: usize,
    occurrences: Vec<(u32, u32, u64)>,
}

/// Turns per-blob findings into attributed findings. `skip_fp` drops secrets (those
/// present before a range); `at_head` is the set of fingerprints present at HEAD.
pub fn attribute(
    repo: &Repository,
    a: &Attribution<'_>,
    skip_fp: &HashSet<String>,
    at_head: &HashSet<String>,
    all_occurrences: bool,
) -> Vec<Finding> {
    let mut groups: HashMap<(&str, u32), Group> = HashMap::new();
    for (blob_pos, (blob, findings)) in a.blob_findings.iter().enumerate() {
        let lo = a.intros.partition_point(|i| i.0 < *blob);
        let hi = a.intros.partition_point(|i| i.0 <= *blob);
        let intros = a.intros.get(lo..hi).unwrap_or(&[]);
        for (fi, f) in findings.iter().enumerate() {
            if skip_fp.contains(&f.fingerprint) {
                continue;
            }
            for &(_, rank, path) in intros {
                let g = groups
                    .entry((f.fingerprint.as_str(), path))
                    .or_insert(Group {
                        rank,
                        blob_pos,
                        finding: fi,
                        occurrences: Vec::new(),
                    });
                if rank < g.rank {
                    g.rank = rank;
                    g.blob_pos = blob_pos;
                    g.finding = fi;
                }
                if all_occurrences {
                    g.occurrences.push((rank, path, f.line));
                }
            }
        }
    }
    let mut meta = MetaCache::new(repo);
    let mut out = Vec::with_capacity(groups.len());
    for ((fp, path), mut g) in groups {
        let Some(f) = a
            .blob_findings
            .get(g.blob_pos)
            .and_then(|(_, fs)| fs.get(g.finding))
        else {
            continue;
        };
        let mut f = f.clone();
        f.path = path_string(a.paths, path);
        let commit = a.commits.get(g.rank as usize).copied();
        let mut prov = commit.map_or_else(GitProvenance::default, |id| meta.get(id));
        prov.present_at_head = at_head.contains(fp);
        if all_occurrences {
            // By commit, then path name, then line: an order `leaksweep merge` can
            // rebuild from the shares of a repository split by blob.
            g.occurrences.sort_unstable_by(|x, y| {
                (x.0, &a.paths[x.1 as usize], x.2).cmp(&(y.0, &a.paths[y.1 as usize], y.2))
            });
            g.occurrences.dedup();
            prov.occurrences = g
                .occurrences
                .iter()
                .map(|&(rank, p, line)| Occurrence {
                    commit: a
                        .commits
                        .get(rank as usize)
                        .map(Oid::to_string)
                        .unwrap_or_default(),
                    path: path_string(a.paths, p),
                    line,
                })
                .collect();
        }
        f.git = Some(prov);
        out.push(f);
    }
    out
}

fn path_string(paths: &[Vec<u8>], idx: u32) -> String {
    paths
        .get(idx as usize)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default()
}

/// Commit metadata, read once per attributed commit.
struct MetaCache<'r> {
    repo: &'r Repository,
    cache: HashMap<Oid, GitProvenance>,
}

impl<'r> MetaCache<'r> {
    fn new(repo: &'r Repository) -> Self {
        MetaCache {
            repo,
            cache: HashMap::new(),
        }
    }

    fn get(&mut self, id: Oid) -> GitProvenance {
        let repo = self.repo;
        self.cache
            .entry(id)
            .or_insert_with(|| commit_meta(repo, id))
            .clone()
    }
}

/// Author, e-mail, date and summary of `id` (empty strings if the commit is unreadable).
pub fn commit_meta(repo: &Repository, id: Oid) -> GitProvenance {
    let mut p = GitProvenance {
        commit: id.to_string(),
        ..GitProvenance::default()
    };
    if let Ok(c) = repo.find_commit(id) {
        let author = c.author();
        p.author = String::from_utf8_lossy(author.name_bytes()).into_owned();
        p.email = String::from_utf8_lossy(author.email_bytes()).into_owned();
        let when = author.when();
        p.date = crate::civil::rfc3339_offset(when.seconds(), when.offset_minutes());
        p.summary = c
            .summary_bytes()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default();
    }
    p
}
