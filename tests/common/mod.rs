//! Shared helpers for integration tests: run the real binary, build fake secrets.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Asserts that `o` was refused as bad input (exit 2) with a message that says `want`.
pub fn assert_refused(o: &Output, want: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(want), "expected {want:?} in: {err}");
}

/// The built binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_leaksweep"))
}

/// Runs `leaksweep ARGS` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run leaksweep")
}

/// stdout as a string.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as a string.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Deterministic pseudo-random alphanumerics (xorshift), so fixtures are fixed but look random.
pub fn random_alnum(seed: u64, n: usize) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            BASE62[(x % 62) as usize] as char
        })
        .collect()
}

/// A GitHub classic PAT with a valid CRC32 checksum.
pub fn github_pat(seed: u64) -> String {
    let random = random_alnum(seed, 30);
    let mut n = u64::from(crc32(random.as_bytes()));
    let mut tail = Vec::new();
    while n > 0 {
        tail.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while tail.len() < 6 {
        tail.push(b'0');
    }
    tail.reverse();
    format!("ghp_{random}{}", String::from_utf8(tail).unwrap())
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A fake AWS access key id (AKIA + 16 base32 characters).
pub fn aws_key_id(seed: u64) -> String {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let r = random_alnum(seed, 16);
    let body: String = r.bytes().map(|b| B32[(b as usize) % 32] as char).collect();
    format!("AKIA{body}")
}

/// A fake PostgreSQL URL with a random password; returns (url, password).
pub fn postgres_url(seed: u64) -> (String, String) {
    let pw = random_alnum(seed, 18);
    (format!("postgres://app:{pw}@db.internal.corp:5432/app"), pw)
}

/// Runs `cmd` with `input` on its stdin and returns its output. stdin is written from a
/// thread, so a large input cannot deadlock against a full stdout pipe.
pub fn output_with_stdin(cmd: &mut Command, input: Vec<u8>) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut si = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || si.write_all(&input));
    let o = child.wait_with_output().expect("wait");
    writer.join().expect("stdin writer").expect("write stdin");
    o
}

/// Runs git in `dir` hermetically (no system or global config, a fixed identity, no
/// signing), with `input` on stdin if given; panics with git's stderr if it fails.
pub fn git_in(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Output {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .args(["-c", "user.name=Ada", "-c", "user.email=ada@corp.invalid"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args);
    let o = output_with_stdin(&mut cmd, input.unwrap_or_default().to_vec());
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
    o
}
