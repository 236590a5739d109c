//! The trusted key set: lookup by fingerprint and validity, and the `list-public-keys` JSON it is
//! read from and written to.
use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;

use super::{fingerprint, KeyError, PublicKey};

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
    /// By `pkcs1_fingerprint`.
    keys: BTreeMap<String, Vec<PublicKey>>,
    /// The MD5 of a key's DER as published, where that differs (SPKI), to its `pkcs1_fingerprint`:
    /// a digest may cite either name (see `PublicKey::fingerprint`).
    aliases: BTreeMap<String, String>,
    rejected: BTreeMap<String, String>,
}

impl KeyRing {
    pub fn insert(&mut self, key: PublicKey) {
        let served = fingerprint(&key.published_der);
        if served != key.pkcs1_fingerprint {
            self.aliases.insert(served, key.pkcs1_fingerprint.clone());
        }
        let list = self.keys.entry(key.pkcs1_fingerprint.clone()).or_default();
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
        let found = self.keys.get(&fp).or_else(|| self.aliases.get(&fp).and_then(|pkcs1| self.keys.get(pkcs1)));
        match found {
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

    /// Writes the ring in `list-public-keys` JSON shape: each key as published (PKCS#1 or SPKI)
    /// under its stated fingerprint, RFC 3339 times.
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
    use super::super::tests::{t, test_key};
    use super::*;
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs8::EncodePublicKey;

    #[test]
    fn a_ring_finds_an_spki_served_key_under_both_names_and_exports_it_as_read() {
        let pkcs1 = test_key().to_pkcs1_der().unwrap().as_bytes().to_vec();
        let spki = test_key().to_public_key_der().unwrap().as_bytes().to_vec();
        let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
        for stated in [fingerprint(&pkcs1), fingerprint(&spki)] {
            let json = serde_json::json!({"PublicKeyList": [
                {"Value": b64(&spki), "ValidityStartTime": "2026-03-01T00:00:00Z", "ValidityEndTime": "2026-03-31T00:00:00Z", "Fingerprint": stated},
            ]});
            let ring = KeyRing::from_list_public_keys_json(json.to_string().as_bytes()).unwrap();
            assert_eq!((ring.len(), ring.rejected().count()), (1, 0), "{stated}");
            for name in [fingerprint(&pkcs1), fingerprint(&spki).to_uppercase()] {
                assert_eq!(ring.select(&name, t("2026-03-15")).unwrap().pkcs1_der, pkcs1, "{stated} by {name}");
                assert!(matches!(ring.select(&name, t("2026-04-15")), Err(KeyLookupError::NotValidAt { .. })));
            }
            assert!(matches!(ring.select(&fingerprint(b"other"), t("2026-03-15")), Err(KeyLookupError::Unknown(_))));
            let exported = ring.to_list_public_keys_json();
            assert_eq!(exported["PublicKeyList"][0]["Value"], b64(&spki));
            assert_eq!(exported["PublicKeyList"][0]["Fingerprint"], stated);
            let again = KeyRing::from_list_public_keys_json(exported.to_string().as_bytes()).unwrap();
            assert_eq!(again.to_list_public_keys_json(), exported);
        }
    }

    #[test]
    fn a_2048_bit_key_with_exponent_3_is_refused_and_remembered() {
        let mut rng = rand::thread_rng();
        let weak = rsa::RsaPrivateKey::new_with_exp(&mut rng, 2048, &rsa::BigUint::from(3u8)).unwrap().to_public_key();
        let der = weak.to_pkcs1_der().unwrap().as_bytes().to_vec();
        let fp = fingerprint(&der);
        let (a, b) = (t("2026-03-01"), t("2026-03-31"));
        let refused = Err(KeyError::Exponent { exponent: "3".into() });
        assert_eq!(PublicKey::new(&der, &fp, a, b), refused);
        assert_eq!(PublicKey::new(weak.to_public_key_der().unwrap().as_bytes(), &fp, a, b), refused);
        let good = test_key().to_pkcs1_der().unwrap().as_bytes().to_vec();
        let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
        let json = serde_json::json!({"PublicKeyList": [
            {"Value": b64(&der), "ValidityStartTime": "2026-03-01T00:00:00Z", "ValidityEndTime": "2026-03-31T00:00:00Z", "Fingerprint": fp},
            {"Value": b64(&good), "ValidityStartTime": "2026-03-01T00:00:00Z", "ValidityEndTime": "2026-03-31T00:00:00Z", "Fingerprint": fingerprint(&good)},
        ]});
        let ring = KeyRing::from_list_public_keys_json(json.to_string().as_bytes()).unwrap();
        assert_eq!(ring.len(), 1);
        assert!(ring.select(&fingerprint(&good), t("2026-03-15")).is_ok());
        assert_eq!(
            ring.select(&fp, t("2026-03-15")),
            Err(KeyLookupError::Rejected { fingerprint: fp.clone(), reason: "RSA public exponent 3; CloudTrail keys use 65537".into() })
        );
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
