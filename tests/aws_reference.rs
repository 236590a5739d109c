//! Checks against real AWS data in ../shared/aws-reference (1,594 real CloudTrail public keys and
//! real digest signatures). The data is not part of the project; when it is absent these tests
//! say so and check nothing else.
use std::path::PathBuf;

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPublicKey;
use trailproof::keys::{fingerprint, to_pkcs1_der, KeyRing};

fn reference(file: &str) -> Option<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/aws-reference").join(file);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(_) => {
            eprintln!("SKIPPED: {} is absent; this test needs the real AWS reference data", path.display());
            None
        }
    }
}

#[test]
fn every_real_cloudtrail_public_key_is_accepted() {
    let Some(bytes) = reference("cloudtrail-public-keys-by-region.json") else { return };
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
            assert!(ring.select(fp, mid).is_ok(), "{region} {fp}");
        }
        total += entries.len();
    }
    assert_eq!(total, 1594);
    assert_eq!(by_region.len(), 17);
}

#[test]
fn real_aws_signatures_verify_and_tampered_ones_do_not() {
    let Some(bytes) = reference("signature-vectors.json") else { return };
    let vectors: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(vectors.len(), 3);
    for v in vectors {
        let der = base64::engine::general_purpose::STANDARD.decode(v["key_b64"].as_str().unwrap()).unwrap();
        assert_eq!(fingerprint(&der), v["fingerprint"].as_str().unwrap(), "fingerprint is the MD5 of the DER as published");
        // SPKI and PKCS#1 alike normalise to a PKCS#1 key.
        let key = rsa::RsaPublicKey::from_pkcs1_der(&to_pkcs1_der(&der).unwrap()).unwrap();
        let sig = hex::decode(v["sig_hex"].as_str().unwrap()).unwrap();
        let mut prehash = hex::decode(v["prehash_sha256"].as_str().unwrap()).unwrap();
        // The vectors carry only the SHA-256 of the signed string, so verify the pre-hashed form.
        let scheme = || rsa::Pkcs1v15Sign::new::<sha2::Sha256>();
        assert!(key.verify(scheme(), &prehash, &sig).is_ok(), "{}", v["source"]);
        prehash[0] ^= 1;
        assert!(key.verify(scheme(), &prehash, &sig).is_err());
    }
}
