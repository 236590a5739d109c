//! One conformance suite for every `Source`: the S3 source (against the emulator) and the
//! local-directory source must answer list and get identically for the same objects.

use std::sync::Arc;

use crate::common::*;
use tokio::io::AsyncReadExt;
use trailproof::source::{dir::DirSource, s3::S3Source, Source, SourceError};

async fn exercise(source: Arc<dyn Source>, trail: &trailproof::sim::SimTrail) -> Vec<String> {
    let b = &trail.spec.bucket;
    let mut seen = Vec::new();
    let prefix = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/";
    let all = source.list(b, prefix, None, &|_| false).await.unwrap();
    let mut want = trail.digest_keys.clone();
    want.sort();
    assert_eq!(all, want, "{}", source.describe());
    let after = source.list(b, prefix, Some(&want[3]), &|_| false).await.unwrap();
    assert_eq!(after, want[4..]);
    let until = source.list(b, prefix, None, &|k| k >= want[6].as_str()).await.unwrap();
    assert_eq!(until, want[..6]);
    assert!(source.list(b, "AWSLogs/none/", None, &|_| false).await.unwrap().is_empty());
    for key in [&want[0], &trail.log_keys[0]] {
        let object = source.get(b, key).await.unwrap();
        let mut body = Vec::new();
        object.body.into_async().read_to_end(&mut body).await.unwrap();
        assert_eq!(body, trail.objects[key].body);
        assert_eq!(object.metadata.into_iter().collect::<std::collections::BTreeMap<_, _>>(), trail.objects[key].metadata);
        seen.push(key.clone());
    }
    assert_eq!(source.get(b, "AWSLogs/nothing.json.gz").await.err(), Some(SourceError::NotFound));
    assert!(matches!(source.list("tp-no-such-bucket", prefix, None, &|_| false).await, Err(SourceError::Access(_))));
    seen
}

#[test]
fn s3_and_directory_sources_agree() {
    let trail = simulate(&spec(&bucket("conformance")));
    upload(&trail);
    let dir = write_dir(&trail);
    runtime().block_on(async {
        let from_dir = exercise(Arc::new(DirSource::new(dir.path())), &trail).await;
        let from_s3 = exercise(Arc::new(S3Source::new(s3().await)), &trail).await;
        assert_eq!(from_dir, from_s3);
    });
}
