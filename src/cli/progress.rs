//! Progress on stderr for `leaksweep git`, one repository or a sweep: a live line redrawn
//! in place when stderr is a terminal, or (`--progress plain`) a plain line every few
//! seconds and one when the work is done, for CI logs. Nothing with `-q`,
//! `--progress none` or `--no-progress`, nor in `auto` mode when stderr is not a terminal.
//! Every line is escaped for the terminal (names in it come from the repositories).

use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::ValueEnum;

use crate::report::escape::escape;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// A live line on stderr when it is a terminal; nothing otherwise.
    Auto,
    /// A plain line every few seconds, and one at the end, for CI logs.
    Plain,
    /// Nothing.
    None,
}

/// Seconds between two lines of `--progress plain`.
pub const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// How often the live line is redrawn.
const REDRAW: Duration = Duration::from_millis(200);

/// A running progress display; [`ProgressView::stop`] ends it.
pub struct ProgressView {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<()>,
}

impl ProgressView {
    /// Starts showing `line()` in `mode` (`None` when nothing is to be shown: `quiet`, mode
    /// `none`, or `auto` without a terminal on stderr).
    pub fn start<F>(mode: ProgressMode, quiet: bool, mut line: F) -> Option<ProgressView>
    where
        F: FnMut() -> String + Send + 'static,
    {
        let live = match mode {
            _ if quiet => return None,
            ProgressMode::None => return None,
            ProgressMode::Auto if !io::stderr().is_terminal() => return None,
            ProgressMode::Auto => true,
            ProgressMode::Plain => false,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let mut last_plain = Instant::now();
            let mut last = String::new();
            loop {
                let done = flag.load(Ordering::Relaxed);
                if !done {
                    std::thread::sleep(REDRAW);
                }
                let text = escape(&line()).into_owned();
                if live {
                    if done {
                        eprint!("\r\x1b[2K");
                        break;
                    }
                    let text = fit(&text, terminal_width());
                    if text != last {
                        eprint!("\r\x1b[2K{text}");
                        last = text;
                    }
                } else if done || last_plain.elapsed() >= PLAIN_EVERY {
                    eprintln!("{text}");
                    last_plain = Instant::now();
                    if done {
                        break;
                    }
                }
            }
        });
        Some(ProgressView { stop, handle })
    }

    /// Ends the display: clears the live line, or prints the last plain line.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
    }
}

/// The width of the terminal on stderr (80 if unknown), so that the live line never
/// wraps (a wrapped line cannot be redrawn in place).
fn terminal_width() -> usize {
    #[cfg(unix)]
    {
        let mut ws = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes one `winsize` into the struct we pass.
        let rc = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut ws) };
        if rc == 0 && ws.ws_col > 0 {
            return usize::from(ws.ws_col);
        }
    }
    80
}

/// `line` cut to `width - 1` characters.
fn fit(line: &str, width: usize) -> String {
    let max = width.saturating_sub(1).max(10);
    if line.chars().count() <= max {
        return line.to_string();
    }
    let mut s: String = line.chars().take(max - 1).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_to_the_terminal() {
        assert_eq!(fit("abcdefghijklmnop", 12), "abcdefghij…");
        assert_eq!(fit("short", 80), "short");
    }
}
