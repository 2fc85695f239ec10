//! The line a progress display shows for a sweep (see [`super::SweepProgress`]).

use std::time::Duration;

use super::Snapshot;
use crate::report::escape::escape;

impl Snapshot {
    /// One line of sweep progress: repositories done of total (failed), blobs, bytes,
    /// throughput, ETA over the whole sweep, and the repositories being swept (escaped:
    /// their names come from the list).
    pub fn line(&self, elapsed: Duration) -> String {
        let s = self;
        let secs = elapsed.as_secs_f64().max(0.001);
        let mut line = format!("leaksweep: repos {}/{}", s.repos_done, s.repos_total);
        if s.repos_failed > 0 {
            line.push_str(&format!(" ({} failed)", s.repos_failed));
        }
        line.push_str(&format!(
            ", blobs {}, {:.1} MB, {:.1} MB/s",
            s.blobs,
            s.bytes as f64 / 1e6,
            s.bytes as f64 / 1e6 / secs
        ));
        if s.repos_done > 0 && s.repos_done < s.repos_total {
            let per = secs / s.repos_done as f64;
            line.push_str(&format!(
                ", ETA {}",
                duration(per * (s.repos_total - s.repos_done) as f64)
            ));
        }
        if !s.current.is_empty() {
            let now: Vec<String> = s
                .current
                .iter()
                .map(|(id, done, total)| {
                    let id = escape(id);
                    if *total > 0 {
                        format!("{id} {done}/{total}")
                    } else {
                        id.into_owned()
                    }
                })
                .collect();
            line.push_str(&format!("; now: {}", now.join(", ")));
        }
        line
    }
}

fn duration(secs: f64) -> String {
    // Rounded to whole seconds; an ETA is an estimate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s / 60) % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_line_shows_repos_rate_eta_and_current_ones_escaped() {
        let s = Snapshot {
            repos_total: 10,
            repos_done: 4,
            repos_failed: 1,
            blobs: 1200,
            bytes: 40_000_000,
            current: vec![("org/a".into(), 5, 20), ("evil\x1b[2J".into(), 0, 0)],
        };
        assert_eq!(
            s.line(Duration::from_secs(8)),
            "leaksweep: repos 4/10 (1 failed), blobs 1200, 40.0 MB, 5.0 MB/s, ETA 12s; \
             now: org/a 5/20, evil\\x1b[2J"
        );
        let done = Snapshot {
            repos_total: 2,
            repos_done: 2,
            ..Snapshot::default()
        };
        assert_eq!(
            done.line(Duration::from_secs(1)),
            "leaksweep: repos 2/2, blobs 0, 0.0 MB, 0.0 MB/s"
        );
        assert_eq!(duration(3725.0), "1h02m");
        assert_eq!(duration(61.0), "1m01s");
    }
}
