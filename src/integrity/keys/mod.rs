//! CloudTrail public keys: DER parsing (PKCS#1 or SPKI), the key policy (what CloudTrail
//! publishes), fingerprints and validity windows. The trusted set and its `list-public-keys` JSON
//! shape are in `keyring`.
use chrono::{DateTime, Utc};
use md5::{Digest as _, Md5};
use rsa::pkcs1::der::Decode as _;
use rsa::pkcs1::EncodeRsaPublicKey;

mod keyring;

pub use self::keyring::{KeyLookupError, KeyRing};

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

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::EncodePublicKey;
    use rsa::traits::PublicKeyParts;

    pub(super) fn test_key() -> rsa::RsaPublicKey {
        let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/keys/test-key-a.pem")).unwrap();
        use rsa::pkcs8::DecodePrivateKey;
        rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap().to_public_key()
    }

    pub(super) fn t(s: &str) -> DateTime<Utc> {
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
    fn small_keys_are_refused() {
        let mut rng = rand::thread_rng();
        let small = rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap().to_public_key();
        let der = small.to_pkcs1_der().unwrap().as_bytes().to_vec();
        assert_eq!(to_pkcs1_der(&der), Err(KeyError::Size { bits: 1024 }));
    }
}
