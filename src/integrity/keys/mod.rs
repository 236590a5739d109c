//! CloudTrail public keys: DER parsing (PKCS#1 or SPKI), the key policy (what CloudTrail
//! publishes), fingerprints, validity windows, and the `list-public-keys` JSON shape.
use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use md5::{Digest as _, Md5};
use rsa::pkcs1::der::Decode as _;
use rsa::pkcs1::EncodeRsaPublicKey;
use serde::Deserialize;

/// Smallest and largest RSA modulus accepted, in bits. Every CloudTrail key on record (1,594 of
/// them, 17 regions, 2018-2023) is 2048-bit; 4096 leaves room for a stronger key without letting
/// a key file make every verification arbitrarily slow.
pub const MIN_BITS: usize = 2048;
pub const MAX_BITS: usize = 4096;
/// The only public exponent accepted: every CloudTrail key on record uses it. A small exponent
/// such as 3 is what PKCS#1 v1.5 signature forgeries (Bleichenbacher 2006) feed on.
pub const EXPONENT: u64 = 65537;

/// A trusted digest-signing key with its validity window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The fingerprint the key file stated, checked against the key and lowercased. It is the hex
    /// MD5 of either the PKCS#1 DER (`pkcs1_fingerprint`; how ListPublicKeys names every key,
    /// whatever encoding it serves) or of the DER as published (how AWS's documentation names its
    /// SubjectPublicKeyInfo sample key, and what its sample digest cites).
    pub fingerprint: String,
    /// Hex MD5 of `pkcs1_der`: the key's name whatever encoding was served. `KeyRing` finds the
    /// key under this name and under the MD5 of `published_der`.
    pub pkcs1_fingerprint: String,
    /// The key as PKCS#1 RSAPublicKey DER, the form `ring` verifies with.
    pub pkcs1_der: Vec<u8>,
    /// The DER exactly as published (PKCS#1 or SPKI), so that an exported key file carries the
    /// same bytes under the same stated fingerprint.
    pub published_der: Vec<u8>,
    pub valid_from: DateTime<Utc>,
    pub valid_to: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not an RSA public key in PKCS#1 or SubjectPublicKeyInfo DER")]
    NotRsaDer,
    #[error("RSA key of {bits} bits; CloudTrail keys are {MIN_BITS} to {MAX_BITS} bits")]
    Size { bits: usize },
    /// `exponent` in decimal: a key file may state any length of exponent.
    #[error("RSA public exponent {exponent}; CloudTrail keys use {EXPONENT}")]
    Exponent { exponent: String },
    #[error("stated fingerprint {stated} but the key's MD5 is {actual}")]
    FingerprintMismatch { stated: String, actual: String },
    #[error("Value is not base64: {0}")]
    Base64(String),
    #[error("key file is not list-public-keys JSON: {0}")]
    Json(String),
    #[error("bad validity time '{0}'")]
    Time(String),
}

/// Hex MD5 of DER bytes: CloudTrail's `digestPublicKeyFingerprint` when they are the key's PKCS#1
/// RSAPublicKey DER.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Md5::digest(der))
}

/// Reads PKCS#1 RSAPublicKey (what ListPublicKeys returns) or X.509 SubjectPublicKeyInfo (what
/// AWS's documentation shows) down to the RSAPublicKey structure, without judging the key.
fn decode(der: &[u8]) -> Result<rsa::pkcs1::RsaPublicKey<'_>, KeyError> {
    if let Ok(key) = rsa::pkcs1::RsaPublicKey::from_der(der) {
        return Ok(key);
    }
    let spki = rsa::pkcs8::SubjectPublicKeyInfoRef::from_der(der).map_err(|_| KeyError::NotRsaDer)?;
    // rsaEncryption with NULL parameters, as the rsa crate's own SPKI decoding demands.
    let null: rsa::pkcs8::der::AnyRef<'_> = rsa::pkcs8::der::asn1::Null.into();
    if spki.algorithm.oid != rsa::pkcs1::ALGORITHM_OID || spki.algorithm.parameters != Some(null) {
        return Err(KeyError::NotRsaDer);
    }
    let bits = spki.subject_public_key.as_bytes().ok_or(KeyError::NotRsaDer)?;
    rsa::pkcs1::RsaPublicKey::from_der(bits).map_err(|_| KeyError::NotRsaDer)
}

/// Holds a key to what CloudTrail publishes: RSA, `MIN_BITS..=MAX_BITS` bits, e = `EXPONENT`.
/// Returns the key as PKCS#1 DER.
fn admit(key: &rsa::pkcs1::RsaPublicKey<'_>) -> Result<Vec<u8>, KeyError> {
    let n = rsa::BigUint::from_bytes_be(key.modulus.as_bytes());
    let e = rsa::BigUint::from_bytes_be(key.public_exponent.as_bytes());
    let bits = n.bits();
    if !(MIN_BITS..=MAX_BITS).contains(&bits) {
        return Err(KeyError::Size { bits });
    }
    if e != rsa::BigUint::from(EXPONENT) {
        return Err(KeyError::Exponent { exponent: e.to_string() });
    }
    // What is left for the rsa crate to refuse (an even modulus, say) is malformed, not a policy.
    let key = rsa::RsaPublicKey::new(n, e).map_err(|_| KeyError::NotRsaDer)?;
    Ok(key.to_pkcs1_der().map_err(|_| KeyError::NotRsaDer)?.as_bytes().to_vec())
}

/// Accepts PKCS#1 RSAPublicKey or X.509 SubjectPublicKeyInfo DER of a key CloudTrail could have
/// published (see `admit`) and returns its PKCS#1 form.
pub fn to_pkcs1_der(der: &[u8]) -> Result<Vec<u8>, KeyError> {
    admit(&decode(der)?)
}

impl PublicKey {
    /// Builds a trusted key. The stated fingerprint must be the hex MD5 of the key's PKCS#1 DER
    /// (how CloudTrail names its keys in ListPublicKeys and digests, whatever encoding is served)
    /// or of the bytes as served (for PKCS#1 the same; for SPKI what AWS's documentation shows).
    /// Either binds the name to this one key, so accepting both lets no other key through. The
    /// key must also pass `admit`.
    pub fn new(
        der: &[u8],
        stated_fingerprint: &str,
        valid_from: DateTime<Utc>,
        valid_to: DateTime<Utc>,
    ) -> Result<PublicKey, KeyError> {
        let stated = stated_fingerprint.to_ascii_lowercase();
        let served = fingerprint(der);
        let decoded = decode(der);
        // The PKCS#1 form exactly as served inside an SPKI wrapper: DER has one encoding.
        let pkcs1_fp = decoded.as_ref().ok().and_then(|k| {
            use rsa::pkcs1::der::Encode as _;
            k.to_der().ok().map(|d| fingerprint(&d))
        });
        if stated != served && pkcs1_fp.as_deref() != Some(stated.as_str()) {
            let actual = pkcs1_fp.unwrap_or(served);
            return Err(KeyError::FingerprintMismatch { stated: stated_fingerprint.to_string(), actual });
        }
        let pkcs1_der = admit(&decoded?)?;
        Ok(PublicKey {
            fingerprint: stated,
            pkcs1_fingerprint: fingerprint(&pkcs1_der),
            pkcs1_der,
            published_der: der.to_vec(),
            valid_from,
            valid_to,
        })
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
    use super::*;
    use rsa::pkcs8::EncodePublicKey;
    use rsa::traits::PublicKeyParts;

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
        for (e, decimal) in [(&[3u8][..], "3"), (&[1], "1"), (&[2], "2"), (&[4], "4"), (&[1, 0, 3], "65539"), (&[3, 0, 0, 0, 1], "12884901889")] {
            let want = Err(KeyError::Exponent { exponent: decimal.into() });
            assert_eq!(to_pkcs1_der(&raw_pkcs1(&n, e)), want, "exponent {e:?}");
            let spki = spki_of(&raw_pkcs1(&n, e));
            assert_eq!(to_pkcs1_der(&spki), want, "SPKI, exponent {e:?}");
        }
        // The size is checked before the exponent, and both before anything else.
        let mut short = n[..128].to_vec();
        short[127] |= 1; // an RSA modulus is odd
        assert_eq!(to_pkcs1_der(&raw_pkcs1(&short, &[1, 0, 1])), Err(KeyError::Size { bits: 1024 }));
        assert_eq!(to_pkcs1_der(&raw_pkcs1(&short, &[3])), Err(KeyError::Size { bits: 1024 }));
        let mut under = n.clone();
        under[0] = 0x40;
        assert_eq!(to_pkcs1_der(&raw_pkcs1(&under, &[1, 0, 1])), Err(KeyError::Size { bits: 2047 }));
        let n4096 = [&n[..], &n[..]].concat();
        assert!(to_pkcs1_der(&raw_pkcs1(&n4096, &[1, 0, 1])).is_ok());
        assert_eq!(to_pkcs1_der(&raw_pkcs1(&[&[1u8][..], &n4096].concat(), &[1, 0, 1])), Err(KeyError::Size { bits: 4097 }));
        assert_eq!(to_pkcs1_der(&raw_pkcs1(&[&n4096[..], &n4096].concat(), &[1, 0, 1])), Err(KeyError::Size { bits: 8192 }));
        // Malformed rather than out of policy.
        let mut even = n.clone();
        *even.last_mut().unwrap() &= 0xfe;
        assert_eq!(to_pkcs1_der(&raw_pkcs1(&even, &[1, 0, 1])), Err(KeyError::NotRsaDer));
        assert_eq!(to_pkcs1_der(b"\x30\x03\x02\x01\x00"), Err(KeyError::NotRsaDer));
        assert_eq!(KeyError::Exponent { exponent: "3".into() }.to_string(), "RSA public exponent 3; CloudTrail keys use 65537");
        assert_eq!(KeyError::Size { bits: 1024 }.to_string(), "RSA key of 1024 bits; CloudTrail keys are 2048 to 4096 bits");
    }

    /// SubjectPublicKeyInfo DER around PKCS#1 DER, as `rsa` would write it but for any key.
    fn spki_of(pkcs1: &[u8]) -> Vec<u8> {
        use rsa::pkcs8::der::Encode;
        let info = rsa::pkcs8::SubjectPublicKeyInfoRef {
            algorithm: rsa::pkcs8::AlgorithmIdentifierRef { oid: rsa::pkcs1::ALGORITHM_OID, parameters: Some(rsa::pkcs8::der::asn1::Null.into()) },
            subject_public_key: rsa::pkcs8::der::asn1::BitStringRef::from_bytes(pkcs1).unwrap(),
        };
        info.to_der().unwrap()
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
        // Bytes that are no key at all still get the fingerprint's reason first.
        assert!(matches!(PublicKey::new(b"junk", "00", a, b), Err(KeyError::FingerprintMismatch { .. })));
        assert_eq!(PublicKey::new(b"junk", &fingerprint(b"junk"), a, b), Err(KeyError::NotRsaDer));
    }

    #[test]
    fn an_spki_served_key_is_named_by_the_md5_of_its_pkcs1_form_or_of_its_bytes() {
        let pkcs1 = test_key().to_pkcs1_der().unwrap().as_bytes().to_vec();
        let spki = test_key().to_public_key_der().unwrap().as_bytes().to_vec();
        assert_eq!(spki_of(&pkcs1), spki);
        let (a, b) = (t("2026-01-01"), t("2026-02-01"));
        // ListPublicKeys' name for the key (issue 10, defect 10)...
        let k = PublicKey::new(&spki, &fingerprint(&pkcs1).to_uppercase(), a, b).unwrap();
        assert_eq!((k.fingerprint.as_str(), k.pkcs1_fingerprint.as_str()), (fingerprint(&pkcs1).as_str(), fingerprint(&pkcs1).as_str()));
        assert_eq!((&k.pkcs1_der, &k.published_der), (&pkcs1, &spki));
        // ...and the name AWS's documentation gives its SPKI sample key.
        let k = PublicKey::new(&spki, &fingerprint(&spki), a, b).unwrap();
        assert_eq!((k.fingerprint.clone(), k.pkcs1_fingerprint.clone()), (fingerprint(&spki), fingerprint(&pkcs1)));
        // Any other name is refused, and the reason gives the PKCS#1 MD5.
        assert_eq!(
            PublicKey::new(&spki, "00000000000000000000000000000000", a, b),
            Err(KeyError::FingerprintMismatch { stated: "0".repeat(32), actual: fingerprint(&pkcs1) })
        );
        // A PKCS#1 key is not known by its SPKI MD5: nothing served those bytes.
        assert!(matches!(PublicKey::new(&pkcs1, &fingerprint(&spki), a, b), Err(KeyError::FingerprintMismatch { .. })));
    }

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
