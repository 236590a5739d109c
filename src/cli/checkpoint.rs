//! `--checkpoint FILE|s3://bucket/key`: where a scheduled audit keeps its checkpoint. Reading and
//! writing only (through [`Location`]); the format is `crate::checkpoint`, the checks are the
//! pipeline's.
use super::location::Location;
use super::RunError;
use crate::aws::AwsOptions;
use crate::checkpoint::{Checkpoint, MAX_BYTES};

/// Where the checkpoint lives.
pub struct Store(Location);

impl Store {
    pub fn parse(location: &str) -> Result<Store, RunError> {
        Location::parse("checkpoint", location).map(Store)
    }

    /// The checkpoint for `trail_arn`, or None when there is none yet (the first run). A file that
    /// is there but is not a checkpoint for this trail is a usage error: nothing is overwritten.
    pub async fn load(&self, aws_opts: &AwsOptions, trail_arn: &str) -> Result<Option<Checkpoint>, RunError> {
        let Some(bytes) = self.0.read("checkpoint", "checkpoint", aws_opts, MAX_BYTES).await? else { return Ok(None) };
        Checkpoint::parse(&bytes, trail_arn).map(Some).map_err(|e| RunError::Usage(format!("--checkpoint {}: {e}", self.describe())))
    }

    /// Writes the checkpoint whole: an interrupted run leaves the old checkpoint, never half of a
    /// new one.
    pub async fn save(&self, aws_opts: &AwsOptions, checkpoint: &Checkpoint) -> Result<(), String> {
        self.0.write("checkpoint", aws_opts, checkpoint.render().into_bytes()).await
    }

    pub fn describe(&self) -> String {
        self.0.describe()
    }
}
