//! The CPU workers: one permit per core for inflate + SHA-256, each permit with a reusable
//! scratch (a decompressor and buffers), so a log file costs no allocation of its own.
use std::sync::Mutex;

use tokio::sync::Semaphore;

use crate::integrity::logfile::Scratch;
use crate::source::SourceError;

pub struct Cpu {
    workers: usize,
    permits: Semaphore,
    /// At most one per permit: taken while a worker holds the permit, put back after.
    scratch: Mutex<Vec<Scratch>>,
}

impl Cpu {
    pub fn new(cores: usize) -> Cpu {
        Cpu { workers: cores.max(1), permits: Semaphore::new(cores.max(1)), scratch: Mutex::new(Vec::new()) }
    }

    /// How many workers run at once.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Runs `work` on a blocking thread, holding a core's permit and its scratch.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce(&mut Scratch) -> T + Send + 'static) -> Result<T, SourceError> {
        let _permit = self.permits.acquire().await.map_err(|_| SourceError::Access("worker pool closed".into()))?;
        let mut scratch = self.scratch.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_default();
        let (out, scratch) = tokio::task::spawn_blocking(move || (work(&mut scratch), scratch))
            .await
            .map_err(|e| SourceError::Access(format!("hashing task failed: {e}")))?;
        self.scratch.lock().unwrap_or_else(|e| e.into_inner()).push(scratch);
        Ok(out)
    }
}
