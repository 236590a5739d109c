//! Checks against real AWS data in ../shared/aws-reference (1,594 real CloudTrail public keys and
//! real digest signatures). The data is not part of the project. When it is absent each test says
//! SKIPPED on the terminal and passes, unless TRAILPROOF_REQUIRE_AWS_REFERENCE=1, which makes the
//! absence a failure (for a machine that is meant to have the data). Each test that runs says how
//! many checks it made.
use std::io::Write as _;
use std::path::PathBuf;

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPublicKey;
use trailproof::integrity::signature::{self, SignatureError};
use trailproof::integrity::keys::{fingerprint, to_pkcs1_der, KeyRing, PublicKey};

/// Straight to the terminal: libtest captures `eprintln!` of passing tests, and a skip that
/// nobody sees is the silent kind.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn reference(test: &str, file: &str) -> Option<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/aws-reference").join(file);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            let why = format!("{test}: {} is absent ({e}); this test needs the real AWS reference data", path.display());
            assert!(std::env::var_os("TRAILPROOF_REQUIRE_AWS_REFERENCE").is_none_or(|v| v != "1"), "TRAILPROOF_REQUIRE_AWS_REFERENCE=1 but {why}");
            say(&format!("SKIPPED {why}"));
            None
        }
    }
}

fn ran(test: &str, checks: usize, what: &str) {
    say(&format!("aws_reference: {test}: {checks} checks ran ({what})"));
}

struct Vector {
    source: String,
    der: Vec<u8>,
    key_format: String,
    fingerprint: String,
    sig_hex: String,
    prehash: Vec<u8>,
}

fn vectors(test: &str) -> Option<Vec<Vector>> {
    let bytes = reference(test, "signature-vectors.json")?;
    let raw: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(raw.len(), 3);
    let s = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_else(|| panic!("{k} missing")).to_string();
    Some(
        raw.iter()
            .map(|v| Vector {
                source: s(v, "source"),
                der: base64::engine::general_purpose::STANDARD.decode(s(v, "key_b64")).unwrap(),
                key_format: s(v, "key_format"),
                fingerprint: s(v, "fingerprint"),
                sig_hex: s(v, "sig_hex"),
                prehash: hex::decode(s(v, "prehash_sha256")).unwrap(),
            })
            .collect(),
    )
}

#[test]
fn every_real_cloudtrail_public_key_is_accepted() {
    const TEST: &str = "every_real_cloudtrail_public_key_is_accepted";
    let Some(bytes) = reference(TEST, "cloudtrail-public-keys-by-region.json") else { return };
    let by_region: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
    let mut total = 0;
    for (region, list) in &by_region {
        let ring = KeyRing::from_list_public_keys_json(list.to_string().as_bytes()).unwrap();
        let rejected: Vec<_> = ring.rejected().collect();
        assert!(rejected.is_empty(), "{region}: {rejected:?}");
        let entries = list["PublicKeyList"].as_array().unwrap();
        assert_eq!(ring.len(), entries.len(), "{region}");
        // Each key is selected by its fingerprint inside its own window.
        for e in entries {
            let fp = e["Fingerprint"].as_str().unwrap();
            let mid = trailproof::time::parse_user_time(e["ValidityStartTime"].as_str().unwrap()).unwrap() + chrono::Duration::days(15);
            let key = ring.select(fp, mid).unwrap_or_else(|err| panic!("{region} {fp}: {err}"));
            // ListPublicKeys serves PKCS#1, so both names of the key are the stated one.
            assert_eq!((key.fingerprint.as_str(), key.pkcs1_fingerprint.as_str()), (fp, fp), "{region}");
        }
        total += entries.len();
    }
    assert_eq!(total, 1594);
    assert_eq!(by_region.len(), 17);
    ran(TEST, total, "real keys parsed, admitted (2048-4096 bits, e = 65537) and selected by fingerprint");
}

/// The vectors carry only the SHA-256 of the signed string, so this checks the RSA step with the
/// rsa crate on the pre-hashed form.
#[test]
fn real_aws_signatures_verify_and_tampered_ones_do_not() {
    const TEST: &str = "real_aws_signatures_verify_and_tampered_ones_do_not";
    let Some(vectors) = vectors(TEST) else { return };
    for v in &vectors {
        // AWS's documentation names its SPKI sample key by the MD5 of the SPKI bytes.
        assert_eq!(fingerprint(&v.der), v.fingerprint, "{}", v.source);
        // SPKI and PKCS#1 alike normalise to a PKCS#1 key.
        let key = rsa::RsaPublicKey::from_pkcs1_der(&to_pkcs1_der(&v.der).unwrap()).unwrap();
        let sig = hex::decode(&v.sig_hex).unwrap();
        let mut prehash = v.prehash.clone();
        let scheme = || rsa::Pkcs1v15Sign::new::<sha2::Sha256>();
        assert!(key.verify(scheme(), &prehash, &sig).is_ok(), "{}", v.source);
        prehash[0] ^= 1;
        assert!(key.verify(scheme(), &prehash, &sig).is_err());
    }
    ran(TEST, 2 * vectors.len(), "real signatures: good and tampered");
}

/// The same vectors through trailproof's own path: each key is read by `KeyRing` (parsing, key
/// policy, fingerprint check), found by the fingerprint the digest cites, and handed to
/// `signature::verify`. ring verifies only whole messages and the vectors hold only their SHA-256
/// (the signed strings embed an earlier, unknown signature), so the RSA step itself is checked,
/// good and one-bit-flipped, on the exact PKCS#1 bytes trailproof gives ring.
#[test]
fn real_aws_signatures_through_trailproofs_key_path_and_verifier() {
    const TEST: &str = "real_aws_signatures_through_trailproofs_key_path_and_verifier";
    let Some(vectors) = vectors(TEST) else { return };
    let mut checks = 0;
    for v in &vectors {
        let at = trailproof::time::parse_user_time("2026-03-01T00:00:00Z").unwrap();
        let (from, to) = (at - chrono::Duration::days(1), at + chrono::Duration::days(1));
        let key = PublicKey::new(&v.der, &v.fingerprint, from, to).unwrap_or_else(|e| panic!("{}: {e}", v.source));
        let file = serde_json::json!({"PublicKeyList": [{
            "Value": base64::engine::general_purpose::STANDARD.encode(&v.der), "Fingerprint": v.fingerprint,
            "ValidityStartTime": from.to_rfc3339(), "ValidityEndTime": to.to_rfc3339(),
        }]});
        let ring = KeyRing::from_list_public_keys_json(file.to_string().as_bytes()).unwrap();
        let selected = ring.select(&v.fingerprint, at).unwrap_or_else(|e| panic!("{}: {e}", v.source));
        assert_eq!(selected, &key);
        // An SPKI-served key is also found by the MD5 of its PKCS#1 form, ListPublicKeys' name.
        assert_eq!(ring.select(&fingerprint(&key.pkcs1_der), at).unwrap(), &key);
        if v.key_format == "SPKI" {
            assert_ne!(key.pkcs1_der, v.der);
            assert_eq!(PublicKey::new(&v.der, &fingerprint(&key.pkcs1_der), from, to).unwrap().pkcs1_der, key.pkcs1_der);
        } else {
            assert_eq!(key.pkcs1_der, v.der);
        }
        // The RSA step, on the bytes trailproof hands ring.
        let rsa_key = rsa::RsaPublicKey::from_pkcs1_der(&selected.pkcs1_der).unwrap();
        let sig = hex::decode(&v.sig_hex).unwrap();
        let scheme = || rsa::Pkcs1v15Sign::new::<sha2::Sha256>();
        assert!(rsa_key.verify(scheme(), &v.prehash, &sig).is_ok(), "{}", v.source);
        // Through ring: the real key passes verify's own key check (no KeyRefused). ring's error is
        // opaque, so this cannot tell more.
        let message = b"2015-08-17T15:01:31Z\nbucket/key\n00\nnull";
        let mismatch = Err(SignatureError::Mismatch(v.fingerprint.clone()));
        assert_eq!(signature::verify(message, &v.sig_hex, selected), mismatch, "{}", v.source);
        for bit in [0, 7, sig.len() * 8 / 2, sig.len() * 8 - 1] {
            let mut flipped = sig.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(rsa_key.verify(scheme(), &v.prehash, &flipped).is_err(), "{} bit {bit}", v.source);
            let mut prehash = v.prehash.clone();
            prehash[bit % 32] ^= 1 << (bit % 8);
            assert!(rsa_key.verify(scheme(), &prehash, &sig).is_err(), "{} bit {bit}", v.source);
            checks += 2;
        }
        checks += 6;
    }
    ran(TEST, checks, "real keys through KeyRing and signature::verify, good and one-bit-flipped");
}
