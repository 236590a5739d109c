//! Authenticating one digest: format, location, key, signature, and the times it claims. The
//! only maker of an [`Authentic`].
use chrono::{DateTime, Duration, Utc};

use super::{Auth, Authentic, DigestSlot, Fetched, HexText, PreviousLink};
use crate::finding::FindingKind;
use crate::integrity::digest::{string_to_sign, HASH_ALGORITHM, SIGNATURE_ALGORITHM};
use crate::integrity::keys::KeyRing;
use crate::integrity::signature;
use crate::time::display;

/// How late after its period's end a backfill digest's generation may claim to be, past `now`:
/// clocks differ a little.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Authenticates one digest: format, location, signature metadata, key and signature. A backfill
/// digest is signed when it was generated; its unsigned `backfill-generation-timestamp` picks
/// the key only within what is possible: no earlier than the period it covers, no later than now.
/// `successor_signature` is used only when the object has no signature metadata.
pub fn authenticate(slot: &DigestSlot, keys: &KeyRing, successor_signature: Option<&str>, now: DateTime<Utc>) -> Auth {
    let Fetched::Present { metadata, bytes } = &slot.fetched else {
        return Auth::Pending;
    };
    let parsed = match &bytes.parsed {
        Ok(p) => p,
        Err(e) => return Auth::Invalid(FindingKind::DigestFormatInvalid, format!("invalid format: {e}")),
    };
    let d = &parsed.digest;
    if d.digest_s3_bucket != slot.bucket || d.digest_s3_object != slot.key {
        return Auth::Invalid(
            FindingKind::DigestMoved,
            format!("has been moved from its original location s3://{}/{}", d.digest_s3_bucket, d.digest_s3_object),
        );
    }
    let Some(sig) = slot.signature(successor_signature) else {
        return Auth::Unverifiable(
            "no signature metadata, and no authentic successor names its signature: supply the object's S3 metadata \
             in its .metadata.json sidecar (trailproof export keeps it)"
                .into(),
        );
    };
    // With its own signature metadata comes its algorithm; a successor's hint uses the digest's.
    let alg = match (&metadata.signature, &metadata.signature_algorithm) {
        (Some(_), Some(alg)) => alg.as_str(),
        (Some(_), None) => return Auth::Invalid(FindingKind::DigestSignatureInvalid, "no signature-algorithm metadata".into()),
        (None, _) => d.digest_signature_algorithm.as_str(),
    };
    if alg != SIGNATURE_ALGORITHM {
        return Auth::Invalid(FindingKind::DigestSignatureInvalid, format!("unsupported signature-algorithm '{}'", truncate(alg)));
    }
    let signed_at = if slot.backfill {
        let Some(raw) = metadata.backfill_generated.as_deref() else {
            return Auth::Invalid(FindingKind::DigestFormatInvalid, "backfill digest without backfill-generation-timestamp metadata".into());
        };
        match crate::time::parse_user_time(raw) {
            Ok(t) if t >= parsed.end && now.checked_add_signed(CLOCK_SKEW).is_none_or(|latest| t <= latest) => t,
            Ok(t) => {
                return Auth::Invalid(
                    FindingKind::DigestFormatInvalid,
                    format!("backfill-generation-timestamp {} is outside {} (its period's end) to now", display(t), display(parsed.end)),
                )
            }
            Err(_) => return Auth::Invalid(FindingKind::DigestFormatInvalid, format!("invalid backfill-generation-timestamp '{}'", truncate(raw))),
        }
    } else {
        parsed.end
    };
    let key = match keys.select(&d.digest_public_key_fingerprint, signed_at) {
        Ok(k) => k,
        Err(e) => return Auth::Invalid(FindingKind::DigestKeyUnknown, e.to_string()),
    };
    if let Err(e) = signature::verify(string_to_sign(d, &parsed.sha256).as_bytes(), sig, key) {
        return Auth::Invalid(FindingKind::DigestSignatureInvalid, format!("signature verification failed: {e}"));
    }
    Auth::Authentic(Box::new(Authentic {
        start: parsed.start,
        end: parsed.end,
        signature: HexText::new(&sig.trim().to_ascii_lowercase()),
        sha256: parsed.sha256,
        previous: match (&d.previous_digest_s3_bucket, &d.previous_digest_s3_object) {
            (Some(b), Some(k)) => Some(PreviousLink {
                bucket: b.clone(),
                key: k.clone(),
                signature: d.previous_digest_signature.as_deref().map(HexText::new),
                hash: d.previous_digest_hash_value.as_deref().map(HexText::new),
                hash_algorithm: d.previous_digest_hash_algorithm.as_deref().filter(|a| *a != HASH_ALGORITHM).map(Box::from),
            }),
            _ => None,
        },
    }))
}

/// At most this much of an untrusted string goes into a message.
pub(super) fn truncate(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
