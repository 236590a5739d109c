//! CloudTrail public keys: DER parsing (PKCS#1 or SPKI), fingerprints, validity windows, and the
//! `list-public-keys` JSON shape.
use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use md5::{Digest as _, Md5};
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde::Deserialize;

/// A trusted digest-signing key with its validity window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// Hex MD5 of the DER bytes as CloudTrail published them.
    pub fingerprint: String,
    /// The key as PKCS#1 RSAPublicKey DER, the form `ring` verifies with.
    pub pkcs1_der: Vec<u8>,
    /// The DER exactly as published (PKCS#1 or SPKI): the fingerprint is over these bytes, so key
    /// files are written with them.
    pub published_der: Vec<u8>,
    pub valid_from: DateTime<Utc>,
    pub valid_to: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not an RSA public key in PKCS#1 or SubjectPublicKeyInfo DER")]
    NotRsaDer,
    #[error("RSA key of {bits} bits; CloudTrail keys are 2048 to 8192 bits")]
    Size { bits: usize },
    #[error("stated fingerprint {stated} but the key's MD5 is {actual}")]
    FingerprintMismatch { stated: String, actual: String },
    #[error("Value is not base64: {0}")]
    Base64(String),
    #[error("key file is not list-public-keys JSON: {0}")]
    Json(String),
    #[error("bad validity time '{0}'")]
    Time(String),
}

/// Hex MD5 of DER bytes: CloudTrail's `digestPublicKeyFingerprint`.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Md5::digest(der))
}

/// Accepts PKCS#1 RSAPublicKey (what ListPublicKeys returns) or X.509 SubjectPublicKeyInfo (what
/// AWS's documentation shows) and returns the PKCS#1 form.
pub fn to_pkcs1_der(der: &[u8]) -> Result<Vec<u8>, KeyError> {
    let key = rsa::RsaPublicKey::from_pkcs1_der(der)
        .or_else(|_| rsa::RsaPublicKey::from_public_key_der(der))
        .map_err(|_| KeyError::NotRsaDer)?;
    let bits = key.n().bits();
    // ring refuses keys outside 2048..=8192 bits; say so here, with the size, rather than later.
    if !(2048..=8192).contains(&bits) {
        return Err(KeyError::Size { bits });
    }
    Ok(key.to_pkcs1_der().map_err(|_| KeyError::NotRsaDer)?.as_bytes().to_vec())
}

impl PublicKey {
    /// Builds a trusted key, rejecting it when its stated fingerprint is not the MD5 of its DER.
    pub fn new(
        der: &[u8],
        stated_fingerprint: &str,
        valid_from: DateTime<Utc>,
        valid_to: DateTime<Utc>,
    ) -> Result<PublicKey, KeyError> {
        let actual = fingerprint(der);
        if !actual.eq_ignore_ascii_case(stated_fingerprint) {
            return Err(KeyError::FingerprintMismatch { stated: stated_fingerprint.to_string(), actual });
        }
        Ok(PublicKey { fingerprint: actual, pkcs1_der: to_pkcs1_der(der)?, published_der: der.to_vec(), valid_from, valid_to })
    }
}

/// Why no key could be used for a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyLookupError {
    #[error("no trusted public key has fingerprint {0}")]
    Unknown(String),
    #[error("public key {fingerprint} is valid from {from} to {to}, not at the digest's end time {at}")]
    NotValidAt { fingerprint: String, from: DateTime<Utc>, to: DateTime<Utc>, at: DateTime<Utc> },
    #[error("public key {fingerprint} was offered but rejected: {reason}")]
    Rejected { fingerprint: String, reason: String },
}

/// The set of trusted keys, by fingerprint. Keys that failed their checks are remembered so that
/// a digest naming one gets a precise reason.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: BTreeMap<String, Vec<PublicKey>>,
    rejected: BTreeMap<String, String>,
}

impl KeyRing {
    pub fn insert(&mut self, key: PublicKey) {
        let list = self.keys.entry(key.fingerprint.clone()).or_default();
        if !list.contains(&key) {
            list.push(key);
        }
    }

    pub fn reject(&mut self, stated_fingerprint: &str, reason: String) {
        self.rejected.insert(stated_fingerprint.to_ascii_lowercase(), reason);
    }

    pub fn len(&self) -> usize {
        self.keys.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn rejected(&self) -> impl Iterator<Item = (&String, &String)> {
        self.rejected.iter()
    }

    pub fn merge(&mut self, other: KeyRing) {
        for key in other.keys.into_values().flatten() {
            self.insert(key);
        }
        self.rejected.extend(other.rejected);
    }

    /// The key named by `fingerprint` that was valid at `at` (a digest's end time).
    pub fn select(&self, fingerprint: &str, at: DateTime<Utc>) -> Result<&PublicKey, KeyLookupError> {
        let fp = fingerprint.to_ascii_lowercase();
        match self.keys.get(&fp) {
            Some(list) => list
                .iter()
                .find(|k| k.valid_from <= at && at <= k.valid_to)
                .ok_or_else(|| {
                    let k = &list[0];
                    KeyLookupError::NotValidAt { fingerprint: fp.clone(), from: k.valid_from, to: k.valid_to, at }
                }),
            None => Err(match self.rejected.get(&fp) {
                Some(reason) => KeyLookupError::Rejected { fingerprint: fp, reason: reason.clone() },
                None => KeyLookupError::Unknown(fp),
            }),
        }
    }

    /// Parses the JSON that `aws cloudtrail list-public-keys` prints: `{"PublicKeyList": [{"Value":
    /// base64 DER, "ValidityStartTime", "ValidityEndTime", "Fingerprint"}]}`. Times may be ISO 8601
    /// strings or epoch seconds. A malformed entry is rejected (and remembered), not fatal; a
    /// malformed file is an error.
    pub fn from_list_public_keys_json(bytes: &[u8]) -> Result<KeyRing, KeyError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct File {
            public_key_list: Vec<Entry>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Entry {
            value: String,
            validity_start_time: serde_json::Value,
            validity_end_time: serde_json::Value,
            fingerprint: String,
        }
        let file: File = serde_json::from_slice(bytes).map_err(|e| KeyError::Json(e.to_string()))?;
        let mut ring = KeyRing::default();
        for e in file.public_key_list {
            let built = (|| {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(e.value.trim())
                    .map_err(|err| KeyError::Base64(err.to_string()))?;
                PublicKey::new(&der, &e.fingerprint, json_time(&e.validity_start_time)?, json_time(&e.validity_end_time)?)
            })();
            match built {
                Ok(key) => ring.insert(key),
                Err(err) => ring.reject(&e.fingerprint, err.to_string()),
            }
        }
        Ok(ring)
    }

    /// Writes the ring in `list-public-keys` JSON shape (PKCS#1 values, RFC 3339 times).
    pub fn to_list_public_keys_json(&self) -> serde_json::Value {
        let list: Vec<_> = self
            .keys
            .values()
            .flatten()
            .map(|k| {
                serde_json::json!({
                    "Value": base64::engine::general_purpose::STANDARD.encode(&k.published_der),
                    "ValidityStartTime": k.valid_from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "ValidityEndTime": k.valid_to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "Fingerprint": k.fingerprint,
                })
            })
            .collect();
        serde_json::json!({ "PublicKeyList": list })
    }
}

fn json_time(v: &serde_json::Value) -> Result<DateTime<Utc>, KeyError> {
    match v {
        serde_json::Value::String(s) => {
            crate::time::parse_user_time(s).map_err(|_| KeyError::Time(s.clone()))
        }
        serde_json::Value::Number(n) => n
            .as_f64()
            .and_then(|secs| Utc.timestamp_opt(secs.floor() as i64, 0).single())
            .ok_or_else(|| KeyError::Time(n.to_string())),
        other => Err(KeyError::Time(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::EncodePublicKey;

    fn test_key() -> rsa::RsaPublicKey {
        let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/keys/test-key-a.pem")).unwrap();
        use rsa::pkcs8::DecodePrivateKey;
        rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap().to_public_key()
    }

    fn t(s: &str) -> DateTime<Utc> {
        crate::time::parse_user_time(s).unwrap()
    }

    #[test]
    fn pkcs1_and_spki_normalise_to_the_same_key() {
        let k = test_key();
        let pkcs1 = k.to_pkcs1_der().unwrap().as_bytes().to_vec();
        let spki = k.to_public_key_der().unwrap().as_bytes().to_vec();
        assert_eq!(to_pkcs1_der(&pkcs1).unwrap(), pkcs1);
        assert_eq!(to_pkcs1_der(&spki).unwrap(), pkcs1);
        assert_eq!(to_pkcs1_der(b"\x30\x03\x02\x01\x01"), Err(KeyError::NotRsaDer));
        // The fingerprint is over the bytes as published, so the two forms differ.
        assert_ne!(fingerprint(&pkcs1), fingerprint(&spki));
    }

    /// PKCS#1 DER for an arbitrary modulus and exponent (big-endian bytes).
    fn raw_pkcs1(n: &[u8], e: &[u8]) -> Vec<u8> {
        use rsa::pkcs1::der::Encode;
        let key = rsa::pkcs1::RsaPublicKey { modulus: rsa::pkcs1::UintRef::new(n).unwrap(), public_exponent: rsa::pkcs1::UintRef::new(e).unwrap() };
        key.to_der().unwrap()
    }

    #[test]
    fn keys_of_the_wrong_size_or_exponent_are_refused() {
        let n = test_key().n().to_bytes_be();
        assert!(to_pkcs1_der(&raw_pkcs1(&n, &[1, 0, 1])).is_ok());
        for e in [&[1u8][..], &[2], &[4], &[1, 0, 0], &[3, 0, 0, 0, 1]] {
            let r = to_pkcs1_der(&raw_pkcs1(&n, e));
            // The rsa crate refuses what ring would (even, below 3, over 2^33 - 1) while decoding,
            // so a bad exponent never surfaces later as a bad signature.
            assert_eq!(r, Err(KeyError::NotRsaDer), "exponent {e:?}");
        }
        let mut short = n[..128].to_vec();
        short[127] |= 1; // an RSA modulus is odd
        assert_eq!(to_pkcs1_der(&raw_pkcs1(&short, &[1, 0, 1])), Err(KeyError::Size { bits: 1024 }));
        assert!(to_pkcs1_der(&raw_pkcs1(&[&n[..], &n[..], &n[..], &n[..], &n[..]].concat(), &[1, 0, 1])).is_err());
        assert_eq!(to_pkcs1_der(b"\x30\x03\x02\x01\x00"), Err(KeyError::NotRsaDer));
    }

    #[test]
    fn a_key_whose_stated_fingerprint_differs_is_rejected() {
        let der = test_key().to_pkcs1_der().unwrap().as_bytes().to_vec();
        let (a, b) = (t("2026-01-01"), t("2026-02-01"));
        assert!(PublicKey::new(&der, &fingerprint(&der), a, b).is_ok());
        assert!(PublicKey::new(&der, &fingerprint(&der).to_uppercase(), a, b).is_ok());
        assert!(matches!(
            PublicKey::new(&der, "00000000000000000000000000000000", a, b),
            Err(KeyError::FingerprintMismatch { .. })
        ));
    }

    #[test]
    fn small_keys_are_refused() {
        let mut rng = rand::thread_rng();
        let small = rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap().to_public_key();
        let der = small.to_pkcs1_der().unwrap().as_bytes().to_vec();
        assert_eq!(to_pkcs1_der(&der), Err(KeyError::Size { bits: 1024 }));
    }

    #[test]
    fn select_honours_fingerprint_and_validity() {
        let der = test_key().to_pkcs1_der().unwrap().as_bytes().to_vec();
        let fp = fingerprint(&der);
        let json = serde_json::json!({"PublicKeyList": [
            {"Value": base64::engine::general_purpose::STANDARD.encode(&der), "ValidityStartTime": "2026-03-01T00:00:00+00:00", "ValidityEndTime": 1775001600.0, "Fingerprint": fp},
            {"Value": "!!!", "ValidityStartTime": "2026-03-01T00:00:00Z", "ValidityEndTime": "2026-03-31T00:00:00Z", "Fingerprint": "aa"},
        ]});
        let ring = KeyRing::from_list_public_keys_json(json.to_string().as_bytes()).unwrap();
        assert_eq!(ring.len(), 1);
        assert!(ring.select(&fp, t("2026-03-15T00:00:00Z")).is_ok());
        assert!(matches!(ring.select(&fp, t("2026-02-28T23:59:59Z")), Err(KeyLookupError::NotValidAt { .. })));
        assert!(matches!(ring.select("bb", t("2026-03-15")), Err(KeyLookupError::Unknown(_))));
        assert!(matches!(ring.select("aa", t("2026-03-15")), Err(KeyLookupError::Rejected { .. })));
        // Round trip through the file shape.
        let again = KeyRing::from_list_public_keys_json(ring.to_list_public_keys_json().to_string().as_bytes()).unwrap();
        assert_eq!(again.select(&fp, t("2026-03-15")).unwrap(), ring.select(&fp, t("2026-03-15")).unwrap());
        assert!(KeyRing::from_list_public_keys_json(b"[]").is_err());
    }
}
