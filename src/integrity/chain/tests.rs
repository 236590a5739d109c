//! The chain's authenticate and walk, on simulated trails: each check with a good and a tampered case.
use super::*;
use crate::finding::Scope;
use crate::integrity::digest;
use crate::limits::Limits;
use crate::sim::{self, SimKey, SimTrail, TrailSpec};
use crate::time::display;

fn keys() -> Vec<SimKey> {
    sim::load_keyset(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/keys"))).unwrap().remove("us-east-1").unwrap()
}

fn trail() -> SimTrail {
    let spec = TrailSpec::new("bucket-a", crate::time::parse_user_time("2026-03-02T02:10:00Z").unwrap(), 16);
    sim::simulate(&spec, &keys()).unwrap()
}

/// Slots as the fetcher would build them: every digest still present is listed; pointers to
/// absent digests become `Missing` slots.
fn slots(trail: &SimTrail) -> Vec<DigestSlot> {
    let mut out: Vec<DigestSlot> = trail
        .digest_keys
        .iter()
        .filter_map(|k| trail.objects.get(k))
        .map(|o| DigestSlot {
            bucket: o.bucket.clone(),
            key: o.key.clone(),
            key_time: crate::layout::digest_key_time(&o.key),
            listed: true,
            backfill: false,
            auth: Auth::Pending,
            fetched: Fetched::Present {
                metadata: Box::new(DigestMetadata {
                    signature: o.metadata.get("signature").cloned(),
                    signature_algorithm: o.metadata.get("signature-algorithm").cloned(),
                    backfill_generated: None,
                }),
                bytes: Box::new(digest::parse(&o.body, &Limits::default())),
            },
        })
        .collect();
    let present: Vec<String> = out.iter().map(|s| s.key.clone()).collect();
    let pointers: Vec<String> =
        out.iter().filter_map(|s| s.parsed()).filter_map(|p| p.previous().map(|(_, k)| k.to_string())).collect();
    for k in pointers.into_iter().filter(|k| !present.contains(k)) {
        out.push(DigestSlot { bucket: "bucket-a".into(), key: k.clone(), key_time: crate::layout::digest_key_time(&k), listed: false, backfill: false, auth: Auth::Pending, fetched: Fetched::Missing });
    }
    let ring = sim::public_keys(&keys());
    for s in &mut out {
        s.auth = authenticate(s, &ring, None, Utc::now());
    }
    out
}

fn walk_all(slots: &[DigestSlot], start: DateTime<Utc>) -> ChainReport {
    walk(slots, start, &Scope::default(), &trail().spec.target(), &|b, _| b == "bucket-a")
}

fn run(trail: &SimTrail) -> ChainReport {
    walk_all(&slots(trail), trail.spec.start)
}

fn kinds(r: &ChainReport) -> Vec<FindingKind> {
    r.findings.iter().map(|f| f.kind).collect()
}

#[test]
fn an_intact_chain_is_all_valid() {
    let t = trail();
    let r = run(&t);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!((r.valid, r.invalid), (t.digest_keys.len(), 0));
    // Walk order is newest first.
    assert_eq!(r.verified.len(), t.digest_keys.len());
}

#[test]
fn every_deleted_digest_in_a_run_is_reported() {
    let mut t = trail();
    for k in &t.digest_keys[5..8] {
        t.objects.remove(k);
    }
    let r = run(&t);
    assert_eq!(kinds(&r), vec![FindingKind::DigestMissing; 3]);
    assert_eq!(r.findings[0].key, t.digest_keys[7]);
    assert_eq!(r.invalid, 3);
    assert_eq!(r.valid, t.digest_keys.len() - 3);
}

#[test]
fn a_long_run_of_deleted_digests_is_counted_whole_but_listed_up_to_a_cap() {
    let spec = TrailSpec::new("bucket-a", crate::time::parse_user_time("2026-03-02T02:10:00Z").unwrap(), 40);
    let mut t = sim::simulate(&spec, &keys()).unwrap();
    for k in &t.digest_keys[3..33] {
        t.objects.remove(k);
    }
    let r = run(&t);
    assert_eq!(kinds(&r), vec![FindingKind::DigestMissing; 1 + MISSING_HOURS_LISTED as usize]);
    assert_eq!(r.findings[0].details["count"], 30);
    assert_eq!(r.findings[0].details["from"], display(t.digest_ends[2]).as_str());
    assert_eq!(r.invalid, 30);
    assert_eq!(r.valid, 10);
}

#[test]
fn a_resigned_digest_breaks_its_successors_link() {
    let mut t = trail();
    let k = t.digest_keys[4].clone();
    let key = keys().remove(0);
    t.resign(&k, &key, |d| d.log_files.clear()).unwrap();
    let r = run(&t);
    assert_eq!(kinds(&r), vec![FindingKind::DigestChainMismatch]);
    assert_eq!(r.findings[0].key, t.digest_keys[5], "the finding sits on the digest whose link broke");
    assert!(r.findings[0].message.contains(&k));
    assert_eq!(r.invalid, 1, "the replaced digest is not the one the chain committed to");
}

#[test]
fn a_start_of_chain_with_older_digests_is_a_gap_with_its_span() {
    let mut spec = trail().spec;
    spec.stopped_hours = vec![6, 7, 8];
    let t = sim::simulate(&spec, &keys()).unwrap();
    let r = run(&t);
    assert_eq!(kinds(&r), vec![FindingKind::DigestChainGap]);
    let older_end = crate::time::display(t.digest_ends[5]);
    assert!(r.findings[0].message.contains(&older_end), "{}", r.findings[0].message);
    assert_eq!(r.findings[0].severity, crate::finding::Severity::Warning);
}

#[test]
fn a_digest_nothing_links_to_is_off_chain() {
    let mut t = trail();
    // A genuine digest re-signed under a new name between two others: valid on its own,
    // but the chain skips it.
    let src = t.digest_keys[6].clone();
    let mut copy = t.objects[&src].clone();
    let later = t.digest_ends[6] + chrono::Duration::minutes(5);
    copy.key = src.replace(&src[src.len() - 24..src.len() - 8], &later.format(crate::time::KEY_FORMAT).to_string());
    t.objects.insert(copy.key.clone(), copy.clone());
    t.digest_keys.push(copy.key.clone());
    let key = keys().remove(0);
    let new_key = copy.key.clone();
    t.resign(&copy.key, &key, |d| d.digest_s3_object = new_key).unwrap();
    let r = run(&t);
    assert_eq!(kinds(&r), vec![FindingKind::DigestChainMismatch]);
    assert_eq!(r.findings[0].key, copy.key);
    assert!(r.findings[0].message.contains("no digest in the chain links to it"));
}

#[test]
fn a_link_loop_is_reported_not_followed() {
    let mut t = trail();
    let newest = t.digest_keys.last().unwrap().clone();
    let key = keys().into_iter().max_by_key(|k| k.public.valid_from).unwrap();
    let own = newest.clone();
    t.resign(&newest, &key, |d| d.previous_digest_s3_object = Some(own)).unwrap();
    let r = run(&t);
    assert!(kinds(&r).contains(&FindingKind::DigestChainMismatch), "{:?}", r.findings);
    assert!(r.findings.iter().any(|f| f.message.contains("loop")));
}

#[test]
fn the_walk_stops_at_the_digest_covering_the_range_start() {
    let t = trail();
    let start = t.digest_ends[9] - chrono::Duration::minutes(30);
    let slots: Vec<DigestSlot> = slots(&t).into_iter().filter(|s| s.key_time.unwrap() >= start).collect();
    let r = walk_all(&slots, start);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.valid, t.digest_keys.len() - 9);
}

/// Signatures and hashes are held as bytes when they are exactly hex, and as text otherwise;
/// either way they compare as the text the digest holds.
#[test]
fn hex_text_keeps_what_the_digest_says() {
    let hex = HexText::new("00AbFF");
    assert!(matches!(hex, HexText::Bytes(_)));
    assert_eq!(hex.text(), "00abff");
    assert!(hex.is_hex_of(&[0x00, 0xab, 0xff]));
    assert!(!hex.is_hex_of(&[0x00, 0xab]));
    for odd in [" 00abff", "00abff ", "abc", "", "zz"] {
        let text = HexText::new(odd);
        assert!(matches!(text, HexText::Text(_)), "{odd:?}");
        assert_eq!(text.text(), odd);
        assert!(!text.is_hex_of(&[0x00, 0xab, 0xff]), "{odd:?}");
    }
    // Compared with each other as the texts compare: in any case, blanks around them aside.
    for same in ["00abff", "00ABFF", " 00abff", "00abff\n"] {
        assert!(hex.same(&HexText::new(same)) && HexText::new(same).same(&hex), "{same:?}");
    }
    for other in ["00abfe", "00ab", "00 abff", "", "zz"] {
        assert!(!hex.same(&HexText::new(other)) && !HexText::new(other).same(&hex), "{other:?}");
    }
    assert!(HexText::new("zz").same(&HexText::new(" ZZ")));
}
