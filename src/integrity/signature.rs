//! SHA256withRSA (RSA PKCS#1 v1.5 over SHA-256) verification of a digest's string to sign.
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

use crate::integrity::keys::{KeyError, PublicKey};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature metadata is not hex")]
    NotHex,
    #[error("signature does not verify with key {0}")]
    Mismatch(String),
    #[error("key {fingerprint} is not one CloudTrail would sign with: {reason}")]
    KeyRefused { fingerprint: String, reason: KeyError },
}

/// Verifies `signature_hex` (as stored in the digest object's `signature` metadata) over `message`.
pub fn verify(message: &[u8], signature_hex: &str, key: &PublicKey) -> Result<(), SignatureError> {
    // `PublicKey::new` admits only CloudTrail-shaped keys, but its fields are public and ring
    // alone would take any exponent from 3 up: check again what is about to be trusted.
    let der = crate::integrity::keys::to_pkcs1_der(&key.pkcs1_der)
        .map_err(|reason| SignatureError::KeyRefused { fingerprint: key.fingerprint.clone(), reason })?;
    let signature = hex::decode(signature_hex.trim()).map_err(|_| SignatureError::NotHex)?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &der)
        .verify(message, &signature)
        .map_err(|_| SignatureError::Mismatch(key.fingerprint.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::keys::fingerprint;
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};

    #[test]
    fn good_signature_verifies_and_tampered_ones_do_not() {
        let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/keys/test-key-a.pem")).unwrap();
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap();
        let der = private.to_public_key().to_pkcs1_der().unwrap().as_bytes().to_vec();
        let t = chrono::Utc::now();
        let key = PublicKey::new(&der, &fingerprint(&der), t, t).unwrap();
        let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private);
        let msg = b"2026-03-01T05:17:42Z\nb/k\nabc\nnull";
        let sig = hex::encode(signer.sign(msg).to_bytes());
        assert_eq!(verify(msg, &sig, &key), Ok(()));
        assert!(matches!(verify(b"2026-03-01T05:17:43Z\nb/k\nabc\nnull", &sig, &key), Err(SignatureError::Mismatch(_))));
        let mut flipped = sig.clone().into_bytes();
        flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
        assert!(verify(msg, std::str::from_utf8(&flipped).unwrap(), &key).is_err());
        assert_eq!(verify(msg, "zz", &key), Err(SignatureError::NotHex));
        assert!(verify(msg, "", &key).is_err());
    }

    #[test]
    fn a_key_outside_cloudtrails_policy_is_refused_even_if_built_by_hand() {
        // e = 3 signs and verifies fine in ring; only the policy stops it. `PublicKey::new`
        // refuses such a key, so build the struct directly, as a caller could.
        let mut rng = rand::thread_rng();
        let private = rsa::RsaPrivateKey::new_with_exp(&mut rng, 2048, &rsa::BigUint::from(3u8)).unwrap();
        let der = private.to_public_key().to_pkcs1_der().unwrap().as_bytes().to_vec();
        let t = chrono::Utc::now();
        let key = PublicKey { fingerprint: fingerprint(&der), pkcs1_fingerprint: fingerprint(&der), pkcs1_der: der.clone(), published_der: der.clone(), valid_from: t, valid_to: t };
        let msg = b"2026-03-01T05:17:42Z\nb/k\nabc\nnull";
        let sig = hex::encode(rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private).sign(msg).to_bytes());
        assert!(UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &der).verify(msg, &hex::decode(&sig).unwrap()).is_ok());
        assert_eq!(
            verify(msg, &sig, &key),
            Err(SignatureError::KeyRefused { fingerprint: fingerprint(&der), reason: crate::integrity::keys::KeyError::Exponent { exponent: "3".into() } })
        );
    }
}
