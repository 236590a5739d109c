//! SHA256withRSA (RSA PKCS#1 v1.5 over SHA-256) verification of a digest's string to sign.
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

use crate::keys::PublicKey;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature metadata is not hex")]
    NotHex,
    #[error("signature does not verify with key {0}")]
    Mismatch(String),
}

/// Verifies `signature_hex` (as stored in the digest object's `signature` metadata) over `message`.
pub fn verify(message: &[u8], signature_hex: &str, key: &PublicKey) -> Result<(), SignatureError> {
    let signature = hex::decode(signature_hex.trim()).map_err(|_| SignatureError::NotHex)?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key.pkcs1_der)
        .verify(message, &signature)
        .map_err(|_| SignatureError::Mismatch(key.fingerprint.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::fingerprint;
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
}
