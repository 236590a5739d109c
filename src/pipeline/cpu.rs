//! The CPU workers: one permit per core for inflate + SHA-256, each permit with a reusable
//! scratch (a decompressor and buffers), so a log file costs no allocation of its own, and the
//! folders of a local copy it has open.
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::integrity::logfile::Scratch;
use crate::source::dir::Folders;
use crate::source::SourceError;

/// What a worker keeps between the jobs it runs.
#[derive(Default)]
pub struct Worker {
    pub scratch: Scratch,
    /// Kept across batches, so that a folder is opened once per worker, not once per batch.
    pub folders: Folders,
}

pub struct Cpu {
    workers: usize,
    permits: Arc<Semaphore>,
    /// At most one per permit: taken while a worker holds the permit, put back after.
    idle: Arc<Mutex<Vec<Worker>>>,
}

impl Cpu {
    pub fn new(cores: usize) -> Cpu {
        Cpu { workers: cores.max(1), permits: Arc::new(Semaphore::new(cores.max(1))), idle: Arc::default() }
    }

    /// How many workers run at once.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Runs `work` on a blocking thread, holding a core's permit and its worker's state.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce(&mut Worker) -> T + Send + 'static) -> Result<T, SourceError> {
        run(self.permits.clone(), self.idle.clone(), work).await
    }

    /// [`Cpu::run`], started now and running whether or not it is awaited.
    pub fn spawn<T: Send + 'static>(&self, work: impl FnOnce(&mut Worker) -> T + Send + 'static) -> JoinHandle<Result<T, SourceError>> {
        tokio::spawn(run(self.permits.clone(), self.idle.clone(), work))
    }
}

async fn run<T: Send + 'static>(permits: Arc<Semaphore>, idle: Arc<Mutex<Vec<Worker>>>, work: impl FnOnce(&mut Worker) -> T + Send + 'static) -> Result<T, SourceError> {
    let _permit = permits.acquire().await.map_err(|_| SourceError::Access("worker pool closed".into()))?;
    let mut worker = idle.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_default();
    let (out, worker) = tokio::task::spawn_blocking(move || (work(&mut worker), worker))
        .await
        .map_err(|e| SourceError::Access(format!("hashing task failed: {e}")))?;
    idle.lock().unwrap_or_else(|e| e.into_inner()).push(worker);
    Ok(out)
}
