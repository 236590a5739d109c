//! Resuming a chain at a checkpoint: the digest an earlier audit verified last must still be there,
//! unchanged, and the digests after it must link to exactly what that audit saw.
use super::{DigestSlot, Fetched};
use crate::checkpoint::ChainHead;
use crate::finding::{Finding, FindingKind, Scope};

/// Checks a chain's fetched slots against its checkpointed head (which the pipeline always
/// fetches). A head that is gone is the walk's own `digest_missing`; here it is also named as what
/// it means. Unreadable is the walk's `access_error`: unchecked, not tampered.
pub fn check_resume(head: &ChainHead, verified_at: &str, slots: &[DigestSlot], scope: &Scope) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mismatch = |bucket: &str, key: &str, message: String| {
        scope.finding(FindingKind::DigestCheckpointMismatch, bucket, key, message).with("checkpoint_key", head.key.as_str()).with("verified_at", verified_at)
    };
    let slot = slots.iter().find(|s| s.bucket == head.bucket && s.key == head.key);
    // What the object is now: its SHA-256 and signature metadata (a released body's are its
    // authentic record's).
    let present = slot.and_then(|s| match (&s.fetched, s.authentic()) {
        (Fetched::Present { metadata, bytes }, _) => Some((bytes.inflated_sha256, metadata.signature.clone())),
        (Fetched::Released, Some(a)) => Some((Some(a.sha256()), Some(a.signature()))),
        _ => None,
    });
    match slot.map(|s| &s.fetched) {
        Some(Fetched::Missing) => findings.push(mismatch(&head.bucket, &head.key, format!("the digest verified by the audit of {verified_at} is gone: removed after that audit"))),
        Some(Fetched::Present { .. } | Fetched::Released) => {
            let (sha256, signature) = present.unwrap_or_default();
            let sha256 = sha256.map(hex::encode);
            if sha256.as_deref() != Some(head.sha256.as_str()) {
                findings.push(
                    mismatch(&head.bucket, &head.key, format!("the digest verified by the audit of {verified_at} has changed since: its SHA-256 differs from the checkpoint's"))
                        .with("expected", head.sha256.as_str())
                        .with("actual", sha256.unwrap_or_default()),
                );
            }
            let signature = signature.map(|s| s.trim().to_ascii_lowercase());
            // A copy without metadata has no signature to compare; its successor's link is checked below.
            if signature.as_ref().is_some_and(|s| *s != head.signature) {
                findings.push(mismatch(&head.bucket, &head.key, format!("the digest verified by the audit of {verified_at} has changed since: its signature differs from the checkpoint's")));
            }
        }
        Some(Fetched::Unreadable(_)) => {}
        None => findings.push(scope.finding(FindingKind::Unchecked, &head.bucket, &head.key, "the checkpointed digest was not fetched, so the link to the last audit is unchecked")),
    }
    for slot in slots {
        let Some(a) = slot.authentic() else { continue };
        let Some(link) = &a.previous else { continue };
        if link.bucket != head.bucket || link.key != head.key {
            continue;
        }
        let mut problems = Vec::new();
        if !link.signature.as_ref().is_some_and(|s| s.text().trim().eq_ignore_ascii_case(&head.signature)) {
            problems.push("previousDigestSignature");
        }
        if !link.hash.as_ref().is_some_and(|h| h.text().trim().eq_ignore_ascii_case(&head.sha256)) {
            problems.push("previousDigestHashValue");
        }
        if !problems.is_empty() {
            findings.push(mismatch(&slot.bucket, &slot.key, format!(
                "links back to the checkpointed digest s3://{}/{}, but its {} differs from what the audit of {verified_at} verified",
                head.bucket, head.key, problems.join(" and "))));
        }
    }
    findings
}
