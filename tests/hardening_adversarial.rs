//! Issue #9: adversarial inputs, scaled down for `cargo test` (each case a few seconds on a
//! loaded machine). `tests/adversarial/run.sh` builds the full-size corpus (100 MiB lines,
//! 100k files, ...) and measures time and peak memory of the release binary.
//!
//! Each case states its expected outcome: what is found, what is skipped and said. Memory
//! is bounded by checking the peak RSS of the children this test process ran
//! (`getrusage(RUSAGE_CHILDREN)`), which covers every leaksweep run of the file.
//! Time is not asserted (timed tests are flaky on a shared machine); each run is bounded
//! by `--file-timeout`, and the full-size timings are in docs/benchmarks.md.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tempfile::TempDir;

/// Peak resident memory of any leaksweep run of this test binary: 300 MiB.
const PEAK_RSS_BOUND_KB: i64 = 300 * 1024;

fn peak_child_rss_kb() -> i64 {
    // SAFETY: getrusage fills the struct it is given and has no other effect.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) != 0 {
            return 0;
        }
        u.ru_maxrss
    }
}

fn scan_json(dir: &Path, args: &[&str]) -> (Output, Value) {
    let o = run(dir, &[&["scan", "-f", "json"][..], args].concat());
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("{args:?}: not JSON ({e}); stderr: {}", stderr(&o));
    });
    let rss = peak_child_rss_kb();
    assert!(
        rss < PEAK_RSS_BOUND_KB,
        "{args:?}: peak RSS {rss} KiB over {PEAK_RSS_BOUND_KB} KiB"
    );
    (o, v)
}

fn skipped(v: &Value, reason: &str) -> u64 {
    v["summary"]["skipped"][reason].as_u64().unwrap_or(0)
}

fn no_panic(o: &Output) {
    let e = stderr(o);
    assert!(!e.contains("panicked"), "{e}");
    assert!(o.status.code().is_some(), "killed by a signal: {e}");
}

#[test]
fn issue_9_keyword_flood_without_secrets_finds_nothing() {
    // Millions of keyword hits (every rule's prefilter fires) and long runs of key
    // characters, but nothing that is a secret: the scan completes, finds nothing.
    let dir = TempDir::new().unwrap();
    let mut text = Vec::new();
    while text.len() < 4 << 20 {
        text.extend_from_slice(b"ghp_ AKIA password= token: secret=\"\" xoxb- sk_live_ key ");
    }
    text.extend_from_slice(&vec![b'A'; 1 << 20]);
    text.extend_from_slice(b"\nghp_");
    text.extend_from_slice(&vec![b'a'; 1 << 20]);
    fs::write(dir.path().join("flood.txt"), &text).unwrap();
    let (o, v) = scan_json(dir.path(), &["."]);
    no_panic(&o);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(v["summary"]["files_scanned"], 1);
}

#[test]
fn issue_9_findings_flood_is_capped_and_said() {
    let dir = TempDir::new().unwrap();
    let mut text = String::new();
    for i in 0..5_000u64 {
        text.push_str(&format!("aws_access_key_id = {}\n", aws_key_id(i)));
    }
    fs::write(dir.path().join("dump.txt"), &text).unwrap();
    fs::write(
        dir.path().join("other.txt"),
        format!("t = {}\n", github_pat(7)),
    )
    .unwrap();
    let (_, all) = scan_json(dir.path(), &[".", "--max-findings-per-file", "0"]);
    let all = all["findings"].as_array().unwrap().clone();
    assert!(all.len() > 4000, "most generated keys are findings");
    let (o, v) = scan_json(dir.path(), &["."]);
    no_panic(&o);
    assert_eq!(o.status.code(), Some(1));
    let findings = v["findings"].as_array().unwrap();
    // The first 1000 of dump.txt by position (as in the uncapped run), plus the other
    // file's secret.
    assert_eq!(findings.len(), 1001);
    assert_eq!(findings[..1000], all[..1000]);
    assert_eq!(findings[1000], all[all.len() - 1]);
    assert_eq!(skipped(&v, "findings-capped"), 1);
    assert!(
        stderr(&o).contains("dump.txt: findings-capped")
            && stderr(&o).contains("--max-findings-per-file"),
        "{}",
        stderr(&o)
    );
    // Streams are capped too.
    let o = output_with_stdin(
        bin().current_dir(dir.path()).args([
            "scan",
            "-",
            "-f",
            "json",
            "--max-findings-per-file",
            "10",
        ]),
        text.clone().into_bytes(),
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 10);
    assert_eq!(skipped(&v, "findings-capped"), 1);
}

#[test]
fn issue_9_per_file_timeout_cuts_a_slow_file_and_says_so() {
    let dir = TempDir::new().unwrap();
    let mut text = String::new();
    let mut i = 0u64;
    while text.len() < 2 << 20 {
        text.push_str(&format!("aws_access_key_id = {}\n", aws_key_id(i)));
        i += 1;
    }
    fs::write(dir.path().join("slow.txt"), &text).unwrap();
    // 1 ms is far less than scanning 2 MiB in 1 KiB chunks takes.
    let (o, v) = scan_json(
        dir.path(),
        &[
            ".",
            "--file-timeout",
            "0.001",
            "--chunk-size",
            "1024",
            "--max-findings-per-file",
            "0",
        ],
    );
    no_panic(&o);
    assert_eq!(skipped(&v, "timeout"), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("slow.txt: timeout"), "{}", stderr(&o));
    let cut = v["findings"].as_array().unwrap().len();
    // Without the limit every chunk is scanned.
    let (_, v) = scan_json(
        dir.path(),
        &[".", "--file-timeout", "0", "--max-findings-per-file", "0"],
    );
    let whole = v["findings"].as_array().unwrap().len();
    assert!(whole as u64 > i * 9 / 10, "{whole} of {i}");
    assert!(
        cut < whole,
        "the rest of the file was not scanned: {cut} of {whole}"
    );
    assert_eq!(skipped(&v, "timeout"), 0);
    let o = run(dir.path(), &["scan", ".", "--file-timeout", "-1"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn issue_9_long_line_secret_at_its_end_is_found_at_the_right_column() {
    // One 12 MiB line (above the streaming threshold and the 4 MiB chunk): the secret at its
    // end is found, on line 1, at its character column.
    let dir = TempDir::new().unwrap();
    let pat = github_pat(42);
    let mut text = "é".repeat(6 << 20).into_bytes();
    text.extend_from_slice(format!(" {pat}").as_bytes());
    fs::write(dir.path().join("line.txt"), &text).unwrap();
    let (o, v) = scan_json(dir.path(), &["."]);
    no_panic(&o);
    let f = &v["findings"][0];
    assert_eq!(f["line"], 1);
    assert_eq!(f["column"].as_u64(), Some((6 << 20) + 2));
    assert_eq!(f["offset"].as_u64(), Some((12 << 20) + 1));
}

#[test]
fn issue_9_deep_tree_many_files_and_invalid_utf8_names() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    // 120 levels deep.
    let mut deep = d.join("deep");
    for i in 0..120 {
        deep = deep.join(format!("d{i}"));
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("k.env"), format!("t={}\n", github_pat(1))).unwrap();
    // 5000 tiny files.
    let many = d.join("many");
    fs::create_dir(&many).unwrap();
    for i in 0..5000 {
        fs::write(many.join(format!("f{i}.txt")), "ok\n").unwrap();
    }
    // A file whose name is not UTF-8.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"bad-\xff\xfe-name.env");
        fs::write(d.join(name), format!("t={}\n", github_pat(2))).unwrap();
    }
    let (o, v) = scan_json(d, &["."]);
    no_panic(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(v["summary"]["files_scanned"], 5002);
    let paths: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(paths.iter().any(|p| p.ends_with("d119/k.env")), "{paths:?}");
    #[cfg(unix)]
    assert!(paths.iter().any(|p| p.starts_with("bad-")), "{paths:?}");
}

#[cfg(unix)]
#[test]
fn issue_9_symlink_loops_fifos_and_devices_are_skipped_and_named() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::create_dir(d.join("a")).unwrap();
    std::os::unix::fs::symlink("..", d.join("a/up")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join("zero")).unwrap();
    let fifo = d.join("pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    fs::write(d.join("a/k.env"), format!("t={}\n", github_pat(3))).unwrap();
    for follow in [false, true] {
        let args: &[&str] = if follow { &[".", "-L"] } else { &["."] };
        let (o, v) = scan_json(d, args);
        no_panic(&o);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{args:?}");
        assert!(skipped(&v, "not-a-regular-file") >= 1, "{args:?}: {v}");
        assert!(stderr(&o).contains("pipe: not-a-regular-file"));
        if follow {
            assert_eq!(skipped(&v, "symlink-loop"), 1, "{}", stderr(&o));
            assert_eq!(
                skipped(&v, "not-a-regular-file"),
                2,
                "the FIFO and /dev/zero"
            );
        }
    }
}

#[test]
fn issue_9_files_vanishing_during_a_scan_do_not_crash_it() {
    let dir = TempDir::new().unwrap();
    let d = dir.path().to_path_buf();
    for i in 0..3000 {
        fs::write(
            d.join(format!("f{i}.txt")),
            format!("t={}\n", github_pat(i)),
        )
        .unwrap();
    }
    let remover = {
        let d = d.clone();
        std::thread::spawn(move || {
            for i in (0..3000).rev() {
                let _ = fs::remove_file(d.join(format!("f{i}.txt")));
                if i % 2 == 0 {
                    let _ = fs::write(d.join(format!("f{i}.txt")), "x".repeat(i));
                }
            }
        })
    };
    let o = run(&d, &["scan", ".", "-f", "json", "-j2"]);
    remover.join().unwrap();
    no_panic(&o);
    // Whatever the race: a report, no error exit (vanished files are skipped, not errors).
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["summary"]["files_scanned"].as_u64().is_some());
}

fn git(dir: &Path, args: &[&str], stdin: Option<&str>) {
    git_in(dir, args, stdin.map(str::as_bytes));
}

#[test]
fn issue_9_git_wide_tree_and_thousands_of_refs() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main", "."], None);
    for i in 0..3000 {
        fs::write(d.join(format!("f{i:04}.txt")), format!("line {i}\n")).unwrap();
    }
    fs::write(d.join("k.env"), format!("t={}\n", github_pat(11))).unwrap();
    git(d, &["add", "-A"], None);
    git(d, &["commit", "-q", "-m", "wide"], None);
    // 3000 refs to the same commit, and 3000 more to their own commits' parents.
    let head = {
        let o = Command::new("git")
            .current_dir(d)
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let mut refs = String::new();
    for i in 0..3000 {
        refs.push_str(&format!("create refs/tags/t{i} {head}\n"));
        refs.push_str(&format!("create refs/heads/b{i} {head}\n"));
    }
    git(d, &["update-ref", "--stdin"], Some(&refs));
    let o = run(d, &["git", ".", "-f", "json", "--no-progress"]);
    no_panic(&o);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["findings"].as_array().unwrap().len(),
        1,
        "one secret, reported once whatever the number of refs"
    );
    let rss = peak_child_rss_kb();
    assert!(rss < PEAK_RSS_BOUND_KB, "peak RSS {rss} KiB");
}

/// Runs leaksweep and kills it if it is still running after `limit` (a hang guard, far
/// above the expected time, so that a lost bound fails the test instead of stalling it).
fn run_bounded(dir: &Path, args: &[&str], stdin: Option<fs::File>, limit: Duration) -> Output {
    let mut cmd = bin();
    cmd.current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(f) = stdin {
        cmd.stdin(Stdio::from(f));
    }
    let mut child = cmd.spawn().unwrap();
    // Drain the pipes on threads so a large report cannot block the child.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).map(|_| v)
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut v).map(|_| v)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} still running after {limit:?}: the bound is lost");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: t_out.join().unwrap().unwrap(),
        stderr: t_err.join().unwrap().unwrap(),
    }
}

/// One gzip member whose data is `block` repeated `reps` times, written by streaming:
/// after a full flush the deflate state is reset, so the compressed bytes of every block
/// are the same and are computed once. The inflated data is never held or written (16
/// GiB of it would not fit the disk). Returns the inflated size.
fn write_gzip_bomb_member(out: &mut impl Write, block: &[u8], reps: u64) -> u64 {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    let mut c = Compress::new(Compression::best(), false);
    let mut seg = |input: &[u8], flush| {
        let mut v = Vec::with_capacity(input.len() / 2 + 1024);
        let before = c.total_in();
        c.compress_vec(input, &mut v, flush).unwrap();
        assert_eq!(
            c.total_in() - before,
            input.len() as u64,
            "one call takes the block"
        );
        v
    };
    let first = seg(block, FlushCompress::Full);
    let again = seg(block, FlushCompress::Full);
    assert_eq!(
        again,
        seg(block, FlushCompress::Full),
        "full flush resets the state"
    );
    let tail = seg(&[], FlushCompress::Finish);
    let mut block_crc = Crc::new();
    block_crc.update(block);
    let mut crc = Crc::new();
    out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff])
        .unwrap();
    out.write_all(&first).unwrap();
    crc.combine(&block_crc);
    for _ in 1..reps {
        out.write_all(&again).unwrap();
        crc.combine(&block_crc);
    }
    out.write_all(&tail).unwrap();
    out.write_all(&crc.sum().to_le_bytes()).unwrap();
    out.write_all(&crc.amount().to_le_bytes()).unwrap();
    block.len() as u64 * reps
}

/// One ordinary gzip member.
fn write_gzip_member(out: &mut impl Write, text: &[u8]) {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text).unwrap();
    out.write_all(&e.finish().unwrap()).unwrap();
}

#[test]
fn issue_9_gzip_bomb_is_cut_at_the_decompression_cap_and_said() {
    // A 16 MiB multi-member gzip log that inflates to 16 GiB: a member with a secret, the
    // bomb, and a member with another secret after it. With --max-decompressed-size 64M
    // the scan reads exactly 64 MiB of inflated text (bounded time), streams it (bounded
    // memory), reports the secret before the cap, and names the file on stderr and in
    // the summary; the secret after the cap is not reached.
    let dir = TempDir::new().unwrap();
    let (before, after) = (github_pat(901), github_pat(902));
    let path = dir.path().join("app.log.gz");
    let mut f = std::io::BufWriter::new(fs::File::create(&path).unwrap());
    write_gzip_member(
        &mut f,
        format!("10:00:00 INFO start\n10:00:01 WARN token={before}\n").as_bytes(),
    );
    // One 16 GiB line of spaces: deflate's best ratio (about 1000:1) needs a run.
    let block = vec![b' '; 1 << 20];
    let inflated = write_gzip_bomb_member(&mut f, &block, 16 << 10);
    write_gzip_member(&mut f, format!("10:00:03 WARN token={after}\n").as_bytes());
    drop(f);
    let on_disk = fs::metadata(&path).unwrap().len();
    assert!(
        inflated > 15 << 30 && on_disk < 20 << 20,
        "{on_disk} -> {inflated}"
    );

    let limit = Duration::from_secs(300);
    let cap = 64u64 << 20;
    for (args, stdin, name) in [
        (
            vec![".", "--max-decompressed-size", "64M"],
            None,
            "app.log.gz",
        ),
        (
            vec!["-", "--max-decompressed-size", "64M"],
            Some(fs::File::open(&path).unwrap()),
            "<stdin>",
        ),
    ] {
        let args = [&["scan", "-f", "json"][..], &args].concat();
        let o = run_bounded(dir.path(), &args, stdin, limit);
        no_panic(&o);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let found: Vec<&str> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["fingerprint"].as_str())
            .collect();
        assert_eq!(found.len(), 1, "the secret before the cap only: {v}");
        assert_eq!(v["findings"][0]["line"], 2);
        assert_eq!(v["summary"]["bytes_scanned"].as_u64(), Some(cap));
        assert_eq!(skipped(&v, "decompression-capped"), 1, "{v}");
        let e = stderr(&o);
        assert!(
            e.contains(&format!("{name}: decompression-capped"))
                && e.contains("--max-decompressed-size"),
            "{e}"
        );
        assert!(!e.contains(&before) && !e.contains(&after));
        let rss = peak_child_rss_kb();
        assert!(rss < PEAK_RSS_BOUND_KB, "{args:?}: peak RSS {rss} KiB");
    }
}

#[test]
fn issue_9_multi_member_gzip_is_read_to_its_last_member_under_the_cap() {
    // 2000 members (one empty), secrets in the first and the last, and a 64 MiB member
    // between them: with no cap every member is read, memory stays bounded (streaming).
    let dir = TempDir::new().unwrap();
    let (first, last) = (github_pat(903), github_pat(904));
    let mut f = std::io::BufWriter::new(fs::File::create(dir.path().join("m.log.gz")).unwrap());
    write_gzip_member(&mut f, format!("a token={first}\n").as_bytes());
    write_gzip_member(&mut f, b"");
    for i in 0..2000 {
        write_gzip_member(&mut f, format!("line {i}\n").as_bytes());
    }
    let block = b"10:00:02 INFO GET /health 200 0.1ms\n".repeat((1 << 20) / 36);
    let big = write_gzip_bomb_member(&mut f, &block, 64);
    write_gzip_member(&mut f, format!("z token={last}\n").as_bytes());
    drop(f);
    for cap in ["0", "65M"] {
        let o = run_bounded(
            dir.path(),
            &["scan", ".", "-f", "json", "--max-decompressed-size", cap],
            None,
            Duration::from_secs(300),
        );
        no_panic(&o);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["findings"].as_array().unwrap().len(), 2, "{v}");
        // Line 1, 2000 one-line members, the big member's lines, then the last token.
        let big_lines = big / 36;
        assert_eq!(
            v["findings"][1]["line"].as_u64(),
            Some(1 + 2000 + big_lines + 1)
        );
        assert_eq!(skipped(&v, "decompression-capped"), 0);
        let rss = peak_child_rss_kb();
        assert!(rss < PEAK_RSS_BOUND_KB, "peak RSS {rss} KiB");
    }
}

fn b64(t: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(t)
}

/// Every byte as `%XX`, so the layer always hides what it encodes.
fn pct(t: &str) -> String {
    t.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Every byte as a JSON `\u00XX` escape.
fn esc(t: &str) -> String {
    t.bytes().map(|b| format!("\\u{b:04x}")).collect()
}

#[test]
fn issue_9_decode_depth_limit_finds_exactly_up_to_the_limit() {
    // One line per chain, each hiding its own token; layers named outermost first as in
    // the report's `decoded` field. A token is found iff its chain is no deeper than
    // --max-decode-depth, through exactly that chain.
    type Layer = fn(&str) -> String;
    let chains: &[(&str, &[Layer])] = &[
        ("base64", &[b64]),
        ("base64+base64", &[b64, b64]),
        ("base64+base64+base64", &[b64, b64, b64]),
        ("base64+base64+base64+base64", &[b64, b64, b64, b64]),
        (
            "base64+base64+base64+base64+base64",
            &[b64, b64, b64, b64, b64],
        ),
        ("percent", &[pct]),
        ("escape", &[esc]),
        ("percent+base64", &[b64, pct]),
        ("base64+percent", &[pct, b64]),
        ("escape+base64", &[b64, esc]),
        ("escape+percent+base64", &[b64, pct, esc]),
        ("base64+escape+percent", &[pct, esc, b64]),
        ("percent+escape+base64+base64", &[b64, b64, esc, pct]),
    ];
    let dir = TempDir::new().unwrap();
    let mut text = String::new();
    let mut tokens = Vec::new();
    for (i, (name, layers)) in chains.iter().enumerate() {
        let pat = github_pat(910 + i as u64);
        let mut enc = format!("export GITHUB_TOKEN={pat}");
        for layer in *layers {
            enc = layer(&enc);
        }
        assert!(!enc.contains(&pat));
        text.push_str(&format!("10:00:{i:02} INFO msg={enc} status=200\n"));
        tokens.push((pat, *name, layers.len()));
    }
    fs::write(dir.path().join("enc.log"), &text).unwrap();
    for depth in 0..=6usize {
        let (o, v) = scan_json(dir.path(), &[".", "--max-decode-depth", &depth.to_string()]);
        no_panic(&o);
        let findings = v["findings"].as_array().unwrap();
        let want: Vec<(u64, &str)> = tokens
            .iter()
            .enumerate()
            .filter(|(_, (_, _, n))| *n <= depth)
            .map(|(i, (_, name, _))| (i as u64 + 1, *name))
            .collect();
        let got: Vec<(u64, &str)> = findings
            .iter()
            .map(|f| {
                (
                    f["line"].as_u64().unwrap_or(0),
                    f["decoded"].as_str().unwrap_or("plain"),
                )
            })
            .collect();
        assert_eq!(got, want, "--max-decode-depth {depth}");
        assert!(
            findings
                .iter()
                .all(|f| f["rule_id"] == "github-pat-classic"),
            "{v}"
        );
        let e = stderr(&o);
        assert!(tokens.iter().all(|(p, _, _)| !e.contains(p.as_str())));
    }
}

#[test]
fn issue_9_deeply_nested_and_huge_encoded_input_stays_bounded() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    // Nesting far past any sane depth, scanned with the deepest limit there is (255):
    // a token base64-encoded 12 times, 3000 levels of `%25`, 2000 of escaped backslashes.
    let pat = github_pat(930);
    let mut deep = format!("export GITHUB_TOKEN={pat}");
    for _ in 0..12 {
        deep = b64(&deep);
    }
    let pct_nest = format!("%{}41", "25".repeat(3000));
    let esc_nest = format!("{}\\\"", "\\\\".repeat(2000));
    fs::write(
        d.join("deep.log"),
        format!("a msg={deep}\nb {pct_nest}\nc {esc_nest}\n"),
    )
    .unwrap();
    // 24 MiB of encoded text: base64 blobs of text, `%XX`-dense URLs, escaped JSON, one
    // 8 MiB line of `\"`, and a plain token at the very end.
    let mut huge = String::new();
    let blob = b64(&"lorem ipsum dolor sit amet, ".repeat(100));
    let url = format!("GET /cb?q={} HTTP/1.1", pct(&"a/b?c=d&e ".repeat(300)));
    let json = format!(
        "{{\"body\":\"{}\"}}",
        "{\\\"k\\\":\\\"v\\\\n\\\"}".repeat(300)
    );
    while huge.len() < 16 << 20 {
        huge.push_str(&format!("x={blob}\n{url}\n{json}\n"));
    }
    huge.push_str(&"\\\"".repeat(4 << 20));
    huge.push_str(&format!("\ntoken={}\n", github_pat(931)));
    fs::write(d.join("huge.log"), &huge).unwrap();

    let o = run_bounded(
        d,
        &[
            "scan",
            "deep.log",
            "-f",
            "json",
            "--max-decode-depth",
            "255",
        ],
        None,
        Duration::from_secs(120),
    );
    no_panic(&o);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(v["findings"][0]["decoded"], ["base64"; 12].join("+"));
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{v}");

    for depth in ["2", "255"] {
        let o = run_bounded(
            d,
            &[
                "scan",
                "huge.log",
                "-f",
                "json",
                "--max-decode-depth",
                depth,
            ],
            None,
            Duration::from_secs(300),
        );
        no_panic(&o);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let last = v["findings"].as_array().unwrap().last().cloned();
        assert_eq!(
            last.map(|f| f["line"].clone()),
            Some(huge.matches('\n').count().into()),
            "the plain token at the end is found"
        );
        let rss = peak_child_rss_kb();
        assert!(rss < PEAK_RSS_BOUND_KB, "peak RSS {rss} KiB");
    }
}
