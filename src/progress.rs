//! A progress bar on the terminal: digests and log files done against the total known so far,
//! bytes read and the rate. Silent unless both stdout and stderr are terminals.
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

#[derive(Clone, Default)]
pub struct Progress {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    bar: ProgressBar,
    started: Instant,
    digests_total: AtomicU64,
    digests_done: AtomicU64,
    logs_total: AtomicU64,
    logs_done: AtomicU64,
    bytes: AtomicU64,
}

impl Progress {
    /// A bar on stderr when `wanted` and both stdout and stderr are terminals; otherwise silent.
    pub fn new(wanted: bool) -> Progress {
        if !(wanted && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()) {
            return Progress::default();
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Progress {
            inner: Some(Arc::new(Inner {
                bar,
                started: Instant::now(),
                digests_total: AtomicU64::new(0),
                digests_done: AtomicU64::new(0),
                logs_total: AtomicU64::new(0),
                logs_done: AtomicU64::new(0),
                bytes: AtomicU64::new(0),
            })),
        }
    }

    fn bump(&self, field: impl Fn(&Inner) -> &AtomicU64, n: u64) {
        if let Some(inner) = &self.inner {
            field(inner).fetch_add(n, Relaxed);
            let secs = inner.started.elapsed().as_secs_f64().max(0.001);
            let bytes = inner.bytes.load(Relaxed);
            inner.bar.set_message(format!(
                "digests {}/{} · log files {}/{} · {} · {}/s",
                inner.digests_done.load(Relaxed),
                inner.digests_total.load(Relaxed),
                inner.logs_done.load(Relaxed),
                inner.logs_total.load(Relaxed),
                HumanBytes(bytes),
                HumanBytes((bytes as f64 / secs) as u64),
            ));
        }
    }

    pub fn add_digests(&self, n: usize) {
        self.bump(|i| &i.digests_total, n as u64);
    }

    pub fn digest_done(&self) {
        self.bump(|i| &i.digests_done, 1);
    }

    pub fn add_logs(&self, n: usize) {
        self.bump(|i| &i.logs_total, n as u64);
    }

    pub fn log_done(&self) {
        self.bump(|i| &i.logs_done, 1);
    }

    /// Counts stored (compressed) bytes read.
    pub fn read(&self, n: usize) {
        self.bump(|i| &i.bytes, n as u64);
    }

    pub fn finish(&self) {
        if let Some(inner) = &self.inner {
            inner.bar.finish_and_clear();
        }
    }
}
