//! Whole-object attempts. The SDK retries requests, but not a body that breaks off after the
//! headers arrived; such an object is fetched again, with backoff, and the last failure stands.
use std::future::Future;

/// Runs `once` up to `attempts` times while `broken` says its result is a read that broke off.
/// Returns the last result and the number of attempts made.
pub async fn retrying<T, F: Future<Output = T>>(attempts: u32, broken: impl Fn(&T) -> bool, mut once: impl FnMut() -> F) -> (T, u32) {
    let mut attempt = 1;
    loop {
        let result = once().await;
        if !broken(&result) || attempt >= attempts {
            return (result, attempt);
        }
        backoff(attempt).await;
        attempt += 1;
    }
}

/// Exponential backoff with full jitter before whole-object attempt `attempt + 1`.
async fn backoff(attempt: u32) {
    let cap_ms = 100u64 << attempt.min(6);
    tokio::time::sleep(std::time::Duration::from_millis(rand::random::<u64>() % cap_ms + 1)).await;
}
