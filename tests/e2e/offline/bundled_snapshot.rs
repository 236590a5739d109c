//! The bundled account snapshot (testdata/account-snapshot.json): `baseline --snapshot` tried
//! offline, as the README shows it.
use crate::common::*;

#[test]
fn bundled_snapshot_is_judged_offline_with_its_documented_failures() {
    let snapshot = path_str(&root().join("testdata/account-snapshot.json"));
    // No endpoint, no credentials: nothing may be asked of AWS.
    let env = offline_env();
    let run = trailproof(&["baseline", "--snapshot", &snapshot, "--output", "json"], &env);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    let failed: Vec<&str> = json["results"].as_array().unwrap().iter().filter(|r| r["status"] == "fail").map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(failed, ["cis-4.3.alarm", "cis-4.3.notification", "cis-4.10.filter", "cis-4.10.alarm", "cis-4.10.notification"]);
    assert_eq!(json["summary"]["pass"], 47);
    assert_eq!(json["summary"]["error"], 0);
    let essentials = trailproof(&["baseline", "--snapshot", &snapshot, "--baseline", "essentials"], &env);
    assert_eq!(essentials.code, 1, "{}{}", essentials.stdout, essentials.stderr);
    assert!(essentials.stdout.contains("Baseline essentials"), "{}", essentials.stdout);
}
