//! The chain: authenticating one digest (format, location, key, signature), and the walk over the
//! authentic digests that checks every link between them. Pure: every object has been fetched.
//!
//! Only [`authenticate`] can make an [`Authentic`] digest; its fields are private. Everything that
//! steers a run (links to follow, gap sizes, the chain's newest end, which log files to check)
//! is read from `Authentic` values only: an object's name, its unsigned body and its S3 metadata
//! are claims until the signature over them verifies.
use chrono::{DateTime, Utc};

use crate::finding::FindingKind;
use crate::integrity::digest::{DigestBytes, LogFileEntry, ParsedDigest};

mod authenticate;
mod resume;
mod walk;

pub use authenticate::authenticate;
pub use resume::check_resume;
pub use walk::{walk, ChainReport, MISSING_HOURS_LISTED};

/// The S3 user metadata CloudTrail stores on each digest object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestMetadata {
    /// Hex SHA256withRSA signature over the string to sign.
    pub signature: Option<String>,
    /// Always `SHA256withRSA`.
    pub signature_algorithm: Option<String>,
    /// On backfill digests only: when CloudTrail generated (and signed) the digest. Unsigned.
    pub backfill_generated: Option<String>,
}

/// What fetching one digest object gave.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per digest, and Present is the common case
pub enum Fetched {
    /// Boxed: every slot holds a `Fetched`, and released ones need none of this.
    Present { metadata: Box<DigestMetadata>, bytes: Box<DigestBytes> },
    Missing,
    /// Could not be read (access denied, network): never counted as valid or invalid.
    Unreadable(String),
    /// Present and authentic, its body released once its log files were handed on
    /// ([`DigestSlot::release_body`]): its `Authentic` holds all the walk needs (times, links,
    /// signature, SHA-256), so a chain of years costs a small record per digest.
    Released,
}

/// A digest CloudTrail's key is proven to have signed, at the location it was signed for. Made
/// only by [`authenticate`].
#[derive(Debug, Clone)]
pub struct Authentic {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// The signature that verified (lower-case hex as text), as the successor's
    /// `previousDigestSignature` names it.
    signature: HexText,
    /// SHA-256 of the inflated bytes, as the successor's `previousDigestHashValue` names it.
    sha256: [u8; 32],
    previous: Option<PreviousLink>,
}

/// What an authentic digest says about its predecessor.
#[derive(Debug, Clone)]
struct PreviousLink {
    bucket: String,
    key: String,
    signature: Option<HexText>,
    hash: Option<HexText>,
    /// `previousDigestHashAlgorithm` when it is present and not SHA-256 (the walk treats an
    /// absent one as SHA-256, so only another value needs keeping).
    hash_algorithm: Option<Box<str>>,
}

/// A hex string from a digest (a signature, a hash), held as its bytes when it is exactly hex, in
/// half the memory: a chain of years keeps a few per digest. Anything else is kept as given, so
/// every comparison sees the text the digest holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HexText {
    Bytes(Box<[u8]>),
    Text(Box<str>),
}

impl HexText {
    fn new(text: &str) -> HexText {
        match hex::decode(text) {
            Ok(bytes) if !text.is_empty() => HexText::Bytes(bytes.into()),
            _ => HexText::Text(text.into()),
        }
    }

    /// The text (lower-case when it is hex).
    fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            HexText::Bytes(b) => hex::encode(b).into(),
            HexText::Text(t) => (&**t).into(),
        }
    }

    /// Whether both say the same: the same bytes, or else the same text in any case, blanks
    /// around it aside.
    fn same(&self, other: &HexText) -> bool {
        match (self, other) {
            (HexText::Bytes(a), HexText::Bytes(b)) => a == b,
            _ => self.text().trim().eq_ignore_ascii_case(other.text().trim()),
        }
    }

    /// Whether this is the hex of `bytes`, in any case.
    fn is_hex_of(&self, bytes: &[u8]) -> bool {
        match self {
            HexText::Bytes(b) => **b == *bytes,
            HexText::Text(t) => t.eq_ignore_ascii_case(&hex::encode(bytes)),
        }
    }
}

impl Authentic {
    /// `digestStartTime`, signed.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }
    /// `digestEndTime`, signed.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }
    /// The signature that verified, lower-case hex.
    pub fn signature(&self) -> String {
        self.signature.text().into_owned()
    }
    /// The previous digest's location, or None when this digest starts a chain.
    pub fn previous(&self) -> Option<(&str, &str)> {
        self.previous.as_ref().map(|p| (p.bucket.as_str(), p.key.as_str()))
    }
    /// The signature this digest names for its predecessor (signed).
    pub fn previous_signature(&self) -> Option<String> {
        self.previous.as_ref().and_then(|p| p.signature.as_ref()).map(|s| s.text().into_owned())
    }
}

/// Where a digest object stands on authenticity.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Auth {
    /// Not judged yet: absent, unreadable, or waiting for a successor to name its signature.
    Pending,
    /// Boxed: every slot holds an `Auth`, most of them small.
    Authentic(Box<Authentic>),
    /// Proven not to be what CloudTrail signed for this location.
    Invalid(FindingKind, String),
    /// No signature to check it with; neither valid nor invalid.
    Unverifiable(String),
}

/// A digest object: listed in range, or named by an authentic digest's previous-digest link.
#[derive(Debug, Clone)]
pub struct DigestSlot {
    pub bucket: String,
    pub key: String,
    /// The end time stamped in the key name: a claim, used only to place findings about objects
    /// that could not be authenticated.
    pub key_time: Option<DateTime<Utc>>,
    pub listed: bool,
    /// A `…_backfill.json.gz` digest, signed when it was generated rather than at its end time.
    pub backfill: bool,
    pub fetched: Fetched,
    pub auth: Auth,
}

impl DigestSlot {
    pub fn parsed(&self) -> Option<&ParsedDigest> {
        match &self.fetched {
            Fetched::Present { bytes, .. } => bytes.parsed.as_deref().ok(),
            _ => None,
        }
    }

    /// The same object, marked unreadable for `why`: what stands for it when checking it failed.
    pub fn unreadable(&self, why: String) -> DigestSlot {
        DigestSlot {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            key_time: self.key_time,
            listed: self.listed,
            backfill: self.backfill,
            fetched: Fetched::Unreadable(why),
            auth: Auth::Pending,
        }
    }

    /// What a checkpoint records of this digest, when it is authentic.
    pub fn head(&self) -> Option<crate::checkpoint::ChainHead> {
        let a = self.authentic()?;
        Some(crate::checkpoint::ChainHead {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            signature: a.signature(),
            sha256: hex::encode(a.sha256),
            end_time: a.end,
        })
    }

    pub fn authentic(&self) -> Option<&Authentic> {
        match &self.auth {
            Auth::Authentic(a) => Some(a),
            _ => None,
        }
    }

    /// The log files an authentic digest lists, moved out of its parsed body (they are queued
    /// for checking once); none for any other digest.
    pub fn take_log_files(&mut self) -> Vec<LogFileEntry> {
        match (&self.auth, &mut self.fetched) {
            (Auth::Authentic(_), Fetched::Present { bytes, .. }) => match &mut bytes.parsed {
                Ok(parsed) => std::mem::take(&mut parsed.digest.log_files),
                Err(_) => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// Releases an authentic digest's parsed body (see [`Fetched::Released`]); call it once its
    /// log files have been taken.
    pub fn release_body(&mut self) {
        if self.authentic().is_some() {
            self.fetched = Fetched::Released;
        }
    }

    /// The object's own signature: its metadata, else what a successor named (self-authenticating:
    /// it verifies only if CloudTrail's key made it).
    fn signature<'a>(&'a self, successor_signature: Option<&'a str>) -> Option<&'a str> {
        match &self.fetched {
            Fetched::Present { metadata, .. } => metadata.signature.as_deref().or(successor_signature),
            _ => None,
        }
    }
}

/// The verdict on one digest object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestVerdict {
    Valid,
    Invalid,
    Missing,
    Unreadable,
    /// No signature to check it with (an evidence copy without S3 metadata): neither valid nor invalid.
    Unverifiable,
}

/// Options of the walk that depend on where the evidence came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct WalkOptions {
    /// A copy made without S3 metadata (e.g. by `aws s3 sync`): a digest lacking its `signature`
    /// metadata is checked with the signature its successor names in `previousDigestSignature`,
    /// as AWS's offline-validation guide describes. The signature authenticates itself: whoever
    /// supplied it, it verifies only if CloudTrail's key made it.
    pub signature_from_successor: bool,
}

#[cfg(test)]
mod tests;
