//! The test keys (`keys/keyset.json`) and signing with them.
use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde::Deserialize;
use sha2::Sha256;

use crate::integrity::keys::{fingerprint, KeyRing, PublicKey};

#[derive(Clone)]
pub struct SimKey {
    pub private: rsa::RsaPrivateKey,
    pub public: PublicKey,
}

impl SimKey {
    pub fn from_pem(pem: &str, valid_from: DateTime<Utc>, valid_to: DateTime<Utc>) -> Result<SimKey, String> {
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| e.to_string())?;
        let der = private.to_public_key().to_pkcs1_der().map_err(|e| e.to_string())?.as_bytes().to_vec();
        let public = PublicKey::new(&der, &fingerprint(&der), valid_from, valid_to).map_err(|e| e.to_string())?;
        Ok(SimKey { private, public })
    }

    pub fn sign(&self, message: &[u8]) -> String {
        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(self.private.clone());
        hex::encode(signer.sign(message).to_bytes())
    }
}

/// `keys/keyset.json`: for each region, the test keys and their validity windows.
#[derive(Deserialize)]
struct KeysetFile {
    regions: BTreeMap<String, Vec<KeysetEntry>>,
}

#[derive(Deserialize)]
struct KeysetEntry {
    private_key: String,
    valid_from: DateTime<Utc>,
    valid_to: DateTime<Utc>,
}

/// Loads every region's test keys from a keys directory (see `keys/README.md`).
pub fn load_keyset(keys_dir: &Path) -> Result<BTreeMap<String, Vec<SimKey>>, String> {
    let file = keys_dir.join("keyset.json");
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let keyset: KeysetFile = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut out = BTreeMap::new();
    for (region, entries) in keyset.regions {
        let mut keys = Vec::new();
        for e in entries {
            let pem_path = keys_dir.join(&e.private_key);
            let pem = std::fs::read_to_string(&pem_path).map_err(|err| format!("{}: {err}", pem_path.display()))?;
            keys.push(SimKey::from_pem(&pem, e.valid_from, e.valid_to)?);
        }
        out.insert(region, keys);
    }
    Ok(out)
}

/// The published (public) half of a region's keys, as ListPublicKeys would answer.
pub fn public_keys(keys: &[SimKey]) -> KeyRing {
    let mut ring = KeyRing::default();
    for k in keys {
        ring.insert(k.public.clone());
    }
    ring
}
