//! `leaksweep merge`: shard reports (JSON, JSON lines, SARIF) joined into one, as if one
//! process had swept everything.
//!
//! One record per place: a git finding's place is (repository, path, secret), a file
//! finding's also has its line and column. Where two reports hold the same place (a
//! repository split by blob, or the same report given twice), the earliest introducing
//! commit wins and their occurrences are joined; a secret present at HEAD in one report is
//! present at HEAD in all of the merged records of that repository. "Earliest" is the walk
//! rank that the shards of a repository split by blob write in their summaries (see
//! [`crate::source::git::share`]), which makes the merge attribute exactly as one run;
//! without it, author date, then commit id. The summary is recomputed: counters summed,
//! findings, unique secrets and validation statuses counted again.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use crate::finding::{Finding, Summary};
use crate::source::git::share::ShareFacts;

use super::record;

/// The findings and summary read from one report.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Reported findings (settled: secrets as the report shows them).
    pub findings: Vec<Finding>,
    /// Suppressed findings, if the report lists them.
    pub suppressed: Vec<Finding>,
    /// The summary, if the format has one (JSON).
    pub summary: Option<Value>,
}

/// Reads a report in any of leaksweep's machine formats; `name` is used in errors.
pub fn parse_report(text: &str, name: &str) -> Result<Parsed, String> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Ok(Parsed::default());
    }
    if let Ok(doc) = serde_json::from_str::<Value>(trimmed) {
        if doc.get("runs").is_some() {
            return parse_sarif(&doc, name);
        }
        if let Some(list) = doc.get("findings") {
            let mut p = Parsed {
                summary: doc.get("summary").cloned(),
                ..Parsed::default()
            };
            p.findings = records(list, name, "findings")?;
            if let Some(list) = doc.get("suppressed") {
                p.suppressed = records(list, name, "suppressed")?;
            }
            return Ok(p);
        }
        if doc.get("rule_id").is_none() {
            return Err(format!(
                "{name}: not a leaksweep report (expected --format json, jsonl or sarif)"
            ));
        }
    }
    // JSON lines: one finding per line.
    let mut p = Parsed::default();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| {
            format!(
                "{name}:{}: not a JSON finding ({e}); is the file cut short?",
                n + 1
            )
        })?;
        let f = record::from_json(v)
            .map_err(|e| format!("{name}:{}: not a leaksweep finding ({e})", n + 1))?;
        if f.suppressed.is_some() {
            p.suppressed.push(f);
        } else {
            p.findings.push(f);
        }
    }
    Ok(p)
}

fn records(list: &Value, name: &str, what: &str) -> Result<Vec<Finding>, String> {
    let Some(items) = list.as_array() else {
        return Err(format!("{name}: `{what}` is not a list"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            record::from_json(v.clone())
                .map_err(|e| format!("{name}: {what}[{i}]: not a leaksweep finding ({e})"))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// SARIF results back to findings (what leaksweep's SARIF writer put in them).
fn parse_sarif(doc: &Value, name: &str) -> Result<Parsed, String> {
    let mut p = Parsed::default();
    let runs = doc["runs"]
        .as_array()
        .ok_or_else(|| format!("{name}: SARIF `runs` is not a list"))?;
    for run in runs {
        let rules = run["tool"]["driver"]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for (i, r) in run["results"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let props = &r["properties"];
            let region = &r["locations"][0]["physicalLocation"]["region"];
            let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or_default();
            let rule_name = r["ruleIndex"]
                .as_u64()
                .and_then(|k| rules.get(usize::try_from(k).ok()?))
                .and_then(|rule| rule["name"].as_str())
                .unwrap_or_default();
            let mut v = serde_json::json!({
                "rule_id": r["ruleId"],
                "rule_name": rule_name,
                "severity": props["severity"],
                "path": percent_decode(uri),
                "line": region["startLine"],
                "column": region["startColumn"],
                "end_line": region["endLine"],
                "end_column": region["endColumn"],
                "secret": props["secret"],
                "fingerprint": r["partialFingerprints"]["leaksweep/secret/v1"],
                "entropy": props["entropy"],
            });
            for k in [
                "repository",
                "decoded",
                "commit",
                "author",
                "email",
                "date",
                "commit_summary",
                "present_at_head",
            ] {
                if let Some(x) = props.get(k) {
                    v[k] = x.clone();
                }
            }
            if let Some(obj) = v.as_object_mut() {
                obj.retain(|_, x| !x.is_null());
            }
            let f = record::from_json(v)
                .map_err(|e| format!("{name}: SARIF result {i}: not a leaksweep result ({e})"))?;
            p.findings.push(f);
        }
    }
    Ok(p)
}

/// The identity of a place.
fn place_key(f: &Finding) -> (String, String, String, u64, u64) {
    let (line, column) = if f.git.is_some() {
        (0, 0)
    } else {
        (f.line, f.column)
    };
    (
        f.repository.clone().unwrap_or_default(),
        f.path.clone(),
        f.fingerprint.clone(),
        line,
        column,
    )
}

/// What the shards of repositories split by blob said about them (see
/// [`crate::source::git::share`]), joined: commit ranks and fingerprints at HEAD, by
/// repository.
#[derive(Debug, Default)]
struct Shares {
    ranks: HashMap<String, HashMap<String, u32>>,
    head: HashSet<(String, String)>,
}

impl Shares {
    /// Reads the `blob_shares` of one report's summary.
    fn add(&mut self, summary: &Value) {
        let Some(all) = summary.get(super::BLOB_SHARES).and_then(Value::as_object) else {
            return;
        };
        for (repo, v) in all {
            let Ok(facts) = serde_json::from_value::<ShareFacts>(v.clone()) else {
                continue;
            };
            self.ranks
                .entry(repo.clone())
                .or_default()
                .extend(facts.ranks);
            self.head
                .extend(facts.head.into_iter().map(|fp| (repo.clone(), fp)));
        }
    }

    fn rank(&self, repo: Option<&String>, commit: &str) -> Option<u32> {
        self.ranks.get(repo?)?.get(commit).copied()
    }
}

/// True if `a` was introduced before `b`: by walk rank when the shards of a repository
/// split by blob gave it (the order of one run), else by author date, then commit id;
/// file findings keep the first one read.
fn earlier(a: &Finding, b: &Finding, shares: &Shares) -> bool {
    match (&a.git, &b.git) {
        (Some(x), Some(y)) => {
            let repo = a.repository.as_ref();
            match (
                shares.rank(repo, &x.commit),
                shares.rank(b.repository.as_ref(), &y.commit),
            ) {
                (Some(rx), Some(ry)) => rx < ry,
                _ => (&x.date, &x.commit) < (&y.date, &y.commit),
            }
        }
        _ => false,
    }
}

fn dedup_places(list: Vec<Finding>, shares: &Shares) -> Vec<Finding> {
    let mut best: HashMap<(String, String, String, u64, u64), Finding> = HashMap::new();
    for mut f in list {
        let k = place_key(&f);
        match best.get_mut(&k) {
            Some(old) => {
                // Shares of one repository each list the occurrences in their blobs.
                let more = f
                    .git
                    .as_mut()
                    .map(|g| std::mem::take(&mut g.occurrences))
                    .unwrap_or_default();
                if earlier(&f, old, shares) {
                    if let (Some(g), Some(o)) = (f.git.as_mut(), old.git.as_mut()) {
                        g.occurrences = std::mem::take(&mut o.occurrences);
                    }
                    *old = f;
                }
                if let Some(g) = old.git.as_mut() {
                    g.occurrences.extend(more);
                }
            }
            None => {
                best.insert(k, f);
            }
        }
    }
    // Present at HEAD is a property of (repository, secret).
    let mut at_head: HashSet<(String, String)> = best
        .values()
        .filter(|f| f.git.as_ref().is_some_and(|g| g.present_at_head))
        .map(|f| {
            (
                f.repository.clone().unwrap_or_default(),
                f.fingerprint.clone(),
            )
        })
        .collect();
    at_head.extend(shares.head.iter().cloned());
    let mut out: Vec<Finding> = best.into_values().collect();
    for f in &mut out {
        let k = (
            f.repository.clone().unwrap_or_default(),
            f.fingerprint.clone(),
        );
        let repo = f.repository.clone();
        if let Some(g) = f.git.as_mut() {
            g.present_at_head |= at_head.contains(&k);
            if repo.as_ref().is_some_and(|r| shares.ranks.contains_key(r)) {
                // One run's order: commit rank, then path, then line.
                let key = |o: &crate::finding::Occurrence| {
                    (
                        shares.rank(repo.as_ref(), &o.commit),
                        o.path.clone(),
                        o.line,
                    )
                };
                g.occurrences.sort_by_cached_key(key);
                g.occurrences.dedup();
            } else if g.occurrences.len() > 1 {
                // The same report given twice: the first copy's order.
                let mut seen = std::collections::BTreeSet::new();
                g.occurrences.retain(|o| seen.insert(o.clone()));
            }
        }
    }
    out
}

/// Sums two summary values: numbers add, booleans or, lists concatenate, objects merge
/// key by key; other values are kept only where they agree.
fn add_values(a: &mut Value, b: &Value) {
    match (&mut *a, b) {
        (Value::Number(x), Value::Number(y)) => {
            *a = match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => Value::from(x.saturating_add(y)),
                _ => Value::from(x.as_f64().unwrap_or(0.0) + y.as_f64().unwrap_or(0.0)),
            };
        }
        (Value::Bool(x), Value::Bool(y)) => *x |= *y,
        (Value::Array(x), Value::Array(y)) => x.extend(y.iter().cloned()),
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in y {
                match x.get_mut(k) {
                    Some(old) => add_values(old, v),
                    None => {
                        x.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (x, y) if *x == *y => {}
        (x, _) => *x = Value::Null,
    }
}

/// Merges parsed reports into findings, suppressed findings and a summary whose
/// counters are the sums of the inputs' and whose findings are counted again.
pub fn merge(inputs: Vec<Parsed>) -> (Vec<Finding>, Vec<Finding>, Summary, u64) {
    let mut findings = Vec::new();
    let mut suppressed = Vec::new();
    let mut total: Option<Value> = None;
    let mut elapsed = 0u64;
    let mut same: BTreeMap<&str, u64> = BTreeMap::new();
    let mut shares = Shares::default();
    for p in inputs {
        findings.extend(p.findings);
        suppressed.extend(p.suppressed);
        if let Some(mut s) = p.summary {
            shares.add(&s);
            if let Some(obj) = s.as_object_mut() {
                obj.remove(super::BLOB_SHARES);
            }
            elapsed = elapsed.max(s["elapsed_ms"].as_u64().unwrap_or(0));
            for k in SAME_IN_EVERY_SHARD {
                if let Some(v) = s[*k].as_u64() {
                    let m = same.entry(*k).or_default();
                    *m = (*m).max(v);
                }
            }
            match total.as_mut() {
                Some(t) => add_values(t, &s),
                None => total = Some(s),
            }
        }
    }
    let mut findings = dedup_places(findings, &shares);
    let mut suppressed = dedup_places(suppressed, &shares);
    crate::finding::sort_and_dedup(&mut findings);
    crate::finding::sort_and_dedup(&mut suppressed);
    let mut summary = Summary::default();
    let mut errors = 0;
    if let Some(mut t) = total {
        if let Some(obj) = t.as_object_mut() {
            obj.retain(|_, v| !v.is_null());
            // Recomputed below or meaningless for the whole.
            for k in [
                "findings",
                "unique_secrets",
                "elapsed_ms",
                "mb_per_s",
                "shard",
                "shard_by",
            ] {
                obj.remove(k);
            }
        }
        errors = t["errors"].as_u64().unwrap_or(0);
        let mut known: Summary = serde_json::from_value(t.clone()).unwrap_or_default();
        // The shards' lists, concatenated: the first in path order of all of them, as
        // one unsharded scan would list.
        known.settle_skipped();
        summary = known;
        if let Some(obj) = t.as_object() {
            for (k, v) in obj {
                if !SUMMARY_FIELDS.contains(&k.as_str()) {
                    summary.extra.insert(k.clone(), v.clone());
                }
            }
        }
    }
    for (k, v) in same {
        if k == "rules" {
            summary.rules = v;
        } else {
            summary.extra.insert(k.to_string(), Value::from(v));
        }
    }
    summary.findings = findings.len() as u64;
    // Validation results travel on the records; counted again like the findings.
    summary.validation = crate::validation::count(&findings);
    let fps: HashSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    summary.unique_secrets = fps.len() as u64;
    summary.elapsed_ms = elapsed;
    summary.mb_per_s = if elapsed > 0 {
        ((summary.bytes_scanned as f64 / 1e3 / elapsed as f64) * 10.0).round() / 10.0
    } else {
        0.0
    };
    if !suppressed.is_empty() {
        let mut by: BTreeMap<String, u64> = BTreeMap::new();
        for f in &suppressed {
            if let Some(r) = f.suppressed {
                *by.entry(r.as_str().to_string()).or_default() += 1;
            }
        }
        summary.suppressed = by;
    }
    (findings, suppressed, summary, errors)
}

/// Counters every shard reports for the whole sweep, not its share: not summed.
const SAME_IN_EVERY_SHARD: &[&str] = &["rules", "repositories_listed"];

/// The named fields of [`Summary`] (the rest of a summary object is `extra`).
const SUMMARY_FIELDS: &[&str] = &[
    "files_scanned",
    "bytes_scanned",
    "findings",
    "unique_secrets",
    "skipped",
    "suppressed",
    "errors",
    "rules",
    "elapsed_ms",
    "mb_per_s",
    "skipped_files",
    "validation",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::GitProvenance;
    use crate::report::{self, Format, Report};

    fn git_finding(repo: &str, path: &str, n: u32, date: &str, at_head: bool) -> Finding {
        let mut f = super::super::tests::sample(path, n);
        f.repository = Some(repo.into());
        f.git = Some(GitProvenance {
            commit: format!("{:040}", n),
            date: date.into(),
            present_at_head: at_head,
            ..GitProvenance::default()
        });
        record::settle(&mut f, false);
        f
    }

    fn write(findings: &[Finding], format: Format, files: u64) -> String {
        let summary = Summary {
            files_scanned: files,
            rules: 400,
            errors: 0,
            extra: [("commits_walked".to_string(), serde_json::json!(files * 2))].into(),
            ..Summary::default()
        };
        let r = Report {
            findings,
            suppressed: &[],
            summary: &summary,
            rules: &[],
        };
        let mut out = Vec::new();
        report::write(&mut out, format, &r, record::SETTLED).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_format_reads_back_and_places_are_merged() {
        let a = vec![
            git_finding("org/a", "x.env", 1, "2024-03-01T00:00:00Z", false),
            git_finding("org/b", "y.env", 1, "2024-01-01T00:00:00Z", true),
        ];
        // The same place seen by another shard, introduced earlier there.
        let mut older = git_finding("org/a", "x.env", 1, "2023-12-31T00:00:00Z", false);
        if let Some(g) = older.git.as_mut() {
            g.commit = "e".repeat(40);
        }
        let b = vec![
            older,
            git_finding("org/a", "z.env", 2, "2024-02-01T00:00:00Z", true),
        ];
        for fmt in [Format::Json, Format::Jsonl, Format::Sarif] {
            let inputs = vec![
                parse_report(&write(&a, fmt, 3), "a").unwrap(),
                parse_report(&write(&b, fmt, 4), "b").unwrap(),
            ];
            let (merged, _, summary, errors) = merge(inputs);
            let got: Vec<(&str, &str, &str)> = merged
                .iter()
                .map(|f| {
                    (
                        f.repository.as_deref().unwrap(),
                        f.path.as_str(),
                        f.git.as_ref().unwrap().date.as_str(),
                    )
                })
                .collect();
            assert_eq!(
                got,
                [
                    ("org/a", "x.env", "2023-12-31T00:00:00Z"),
                    ("org/a", "z.env", "2024-02-01T00:00:00Z"),
                    ("org/b", "y.env", "2024-01-01T00:00:00Z"),
                ],
                "{fmt:?}"
            );
            assert_eq!(summary.findings, 3);
            assert_eq!(summary.unique_secrets, 2);
            assert_eq!(errors, 0);
            if fmt == Format::Json {
                assert_eq!(summary.files_scanned, 7);
                assert_eq!(summary.extra["commits_walked"], 14);
                assert_eq!(
                    summary.rules, 400,
                    "the same rules in every shard: not summed"
                );
            }
            // Redacted in, redacted out.
            assert!(merged
                .iter()
                .all(|f| f.secret.reveal_lossy().ends_with('…')));
        }
    }

    /// Shards' skipped lists become one list in path order, capped, as one unsharded
    /// scan would write it; the counts are summed.
    #[test]
    fn skipped_lists_of_shards_merge_in_path_order() {
        let shard = |paths: std::ops::Range<usize>, step: usize| {
            let mut summary = Summary::default();
            for i in paths.step_by(step) {
                summary.skip(crate::finding::Skipped {
                    path: format!("org/r/{i:05}.png"),
                    reason: "binary".into(),
                    detail: String::new(),
                });
            }
            let r = Report {
                findings: &[],
                suppressed: &[],
                summary: &summary,
                rules: &[],
            };
            let mut out = Vec::new();
            report::write(&mut out, Format::Json, &r, record::SETTLED).unwrap();
            parse_report(&String::from_utf8(out).unwrap(), "shard").unwrap()
        };
        let cap = Summary::SKIPPED_LIST_CAP;
        // The second shard holds the odd paths and comes first on the command line.
        let (_, _, summary, _) = merge(vec![shard(1..2 * cap, 2), shard(0..2 * cap, 2)]);
        let got: Vec<&str> = summary
            .skipped_files
            .iter()
            .map(|s| s.path.as_str())
            .collect();
        let want: Vec<String> = (0..cap).map(|i| format!("org/r/{i:05}.png")).collect();
        assert_eq!(got, want);
        assert_eq!(summary.skipped["binary"], 2 * cap as u64);
    }

    #[test]
    fn garbage_is_an_error_that_names_the_file() {
        let e = parse_report("{\"hello\": 1}", "r.json").unwrap_err();
        assert!(
            e.contains("r.json") && e.contains("not a leaksweep report"),
            "{e}"
        );
        let e = parse_report(
            "{\"rule_id\":\"x\",\"path\":\"p\",\"fingerprint\":\"f\"}\n{\"rule",
            "r.jsonl",
        )
        .unwrap_err();
        assert!(e.contains("r.jsonl:2"), "{e}");
    }
}
