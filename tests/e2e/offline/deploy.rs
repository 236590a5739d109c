//! What installs and runs trailproof elsewhere (README "Installing"): the IAM policies of
//! deploy/iam/ in their three forms (JSON, Terraform, CloudFormation), kept in step and linted
//! with cfn-lint, and the GitHub Action (action.yml), whose documented inputs and run step are
//! checked against the README and the real binary. Which actions each command really calls is
//! checked against the emulator in `emulated::iam`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::common::*;
use serde_json::Value;

const NEEDS_VENV: &str = "run scripts/setup.sh (it installs cfn-lint and PyYAML, pinned in tests/emulator/requirements.txt)";

/// Each command's policy: its JSON file in deploy/iam/, its Terraform policy document and its
/// CloudFormation managed policy.
pub const POLICIES: [(&str, &str, &str); 5] = [
    ("validate-logs.json", "validate_logs", "ValidateLogsPolicy"),
    ("export.json", "export", "ExportPolicy"),
    ("keys-export.json", "keys_export", "KeysExportPolicy"),
    ("baseline.json", "baseline", "BaselinePolicy"),
    ("checkpoint.json", "checkpoint", "CheckpointPolicy"),
];

/// Statement ID -> its actions, sorted.
type Statements = BTreeMap<String, BTreeSet<String>>;

pub fn iam_dir() -> std::path::PathBuf {
    root().join("deploy/iam")
}

/// A policy document's statements, from JSON (the files, or CloudFormation's PolicyDocument).
fn statements(doc: &Value) -> Statements {
    assert_eq!(doc["Version"], "2012-10-17", "policy version: {doc}");
    let mut out = Statements::new();
    for s in doc["Statement"].as_array().unwrap_or_else(|| panic!("no Statement list in {doc}")) {
        assert_eq!(s["Effect"], "Allow", "only Allow statements: {s}");
        let sid = s["Sid"].as_str().unwrap_or_else(|| panic!("statement without Sid: {s}")).to_string();
        let actions = match &s["Action"] {
            Value::String(a) => BTreeSet::from([a.clone()]),
            Value::Array(list) => list.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
            other => panic!("Action of {sid} is {other}"),
        };
        assert!(out.insert(sid.clone(), actions).is_none(), "Sid {sid} twice");
    }
    out
}

pub fn json_policy(file: &str) -> Value {
    let path = iam_dir().join(file);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every action a JSON policy allows, over all its statements.
pub fn policy_actions(file: &str) -> BTreeSet<String> {
    statements(&json_policy(file)).into_values().flatten().collect()
}

/// The Terraform file's policy documents: `data "aws_iam_policy_document" "NAME" { statement {
/// sid = "…" actions = [ "…", … ] … } }`, read line by line (the file keeps that shape).
fn terraform_policies(text: &str) -> BTreeMap<String, Statements> {
    let mut out: BTreeMap<String, Statements> = BTreeMap::new();
    let (mut doc, mut sid, mut in_actions): (Option<String>, Option<String>, bool) = (None, None, false);
    let quoted = |s: &str| s.split('"').skip(1).step_by(2).map(str::to_string).collect::<Vec<_>>();
    for line in text.lines().map(str::trim) {
        if line.starts_with("data \"aws_iam_policy_document\"") {
            doc = quoted(line).get(1).cloned();
            out.insert(doc.clone().unwrap(), Statements::new());
        } else if line.starts_with("resource ") || line.starts_with("variable ") {
            doc = None;
        } else if let (Some(d), Some(rest)) = (&doc, line.strip_prefix("sid")) {
            sid = quoted(rest).first().cloned();
            out.get_mut(d).unwrap().insert(sid.clone().unwrap(), BTreeSet::new());
        } else if let (Some(d), true) = (&doc, line.starts_with("actions") || in_actions) {
            let s = sid.as_ref().unwrap_or_else(|| panic!("actions before sid in {d}"));
            out.get_mut(d).unwrap().get_mut(s).unwrap().extend(quoted(line));
            in_actions = !line.contains(']');
        }
    }
    out
}

/// The CloudFormation template as JSON, through PyYAML (the template uses the long form of
/// intrinsic functions, so it is plain YAML).
fn cloudformation() -> Value {
    yaml_as_json(&iam_dir().join("trailproof.yaml"))
}

pub fn yaml_as_json(path: &Path) -> Value {
    let out = Command::new(python())
        .args(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {NEEDS_VENV}", python().display()));
    assert!(out.status.success(), "PyYAML could not read {}: {}; {NEEDS_VENV}", path.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// cfn-lint over a template: its exit status (0: no error, warning or note) and its report.
/// cfn-lint over `broken` (an edit of the template `text`), which it must refuse; its report.
fn cfn_lint_refuses(text: &str, broken: String) -> String {
    assert_ne!(broken, text, "the edit changed nothing");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, broken).unwrap();
    let (code, report) = cfn_lint(&path);
    assert_ne!(code, 0, "cfn-lint accepted a broken template: {report}");
    report
}

fn cfn_lint(template: &Path) -> (i32, String) {
    python_tool(&["-c", "import sys; from cfnlint.runner import main; sys.exit(main())"], template, "cfn-lint")
}

/// A tool from the test venv (pinned in tests/emulator/requirements.txt) run over `path`: its exit
/// status and its whole output. A tool that is not installed fails the test, saying so.
fn python_tool(args: &[&str], path: &Path, tool: &str) -> (i32, String) {
    let out = Command::new(python())
        .args(args)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {NEEDS_VENV}", python().display()));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("No module named"), "{tool} is not installed: {text}; run scripts/setup.sh (it installs {tool}, pinned in tests/emulator/requirements.txt)");
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn cloudformation_policies_pass_cfn_lint() {
    let (code, report) = cfn_lint(&iam_dir().join("trailproof.yaml"));
    assert_eq!((code, report.as_str()), (0, ""), "cfn-lint found problems in deploy/iam/trailproof.yaml");
}

/// The check above can fail: a template with a mistyped resource type and a policy missing its
/// document is refused.
#[test]
fn cfn_lint_refuses_a_broken_template() {
    let text = std::fs::read_to_string(iam_dir().join("trailproof.yaml")).unwrap();
    let broken = text.replacen("Type: AWS::IAM::ManagedPolicy", "Type: AWS::IAM::ManagedPolcy", 1).replacen("      PolicyDocument:\n", "      PolicyDokument:\n", 1);
    let report = cfn_lint_refuses(&text, broken);
    assert!(report.contains("E3006") || report.contains("ManagedPolcy"), "cfn-lint did not name the bad type: {report}");
}

#[test]
fn json_terraform_and_cloudformation_allow_the_same_actions_per_command() {
    let terraform = terraform_policies(&std::fs::read_to_string(iam_dir().join("trailproof.tf")).unwrap());
    let cfn = cloudformation();
    let action_shape = regex::Regex::new("^(cloudtrail|cloudwatch|logs|organizations|s3|sns):[A-Z][A-Za-z]+$").unwrap();
    assert_eq!(terraform.len(), POLICIES.len(), "Terraform policy documents: {:?}", terraform.keys());
    for (file, tf, cf) in POLICIES {
        let json = statements(&json_policy(file));
        for action in json.values().flatten() {
            assert!(action_shape.is_match(action), "{file}: {action:?} is not an IAM action of a service trailproof calls");
        }
        assert_eq!(terraform.get(tf), Some(&json), "Terraform {tf} differs from {file}");
        let resource = &cfn["Resources"][cf];
        assert_eq!(resource["Type"], "AWS::IAM::ManagedPolicy", "CloudFormation {cf}");
        assert_eq!(statements(&resource["Properties"]["PolicyDocument"]), json, "CloudFormation {cf} differs from {file}");
    }
}

#[test]
fn terraform_reader_sees_a_changed_action() {
    let text = std::fs::read_to_string(iam_dir().join("trailproof.tf")).unwrap();
    let changed = terraform_policies(&text.replacen("\"cloudtrail:ListPublicKeys\"", "\"cloudtrail:ListPublicKey\"", 1));
    assert_ne!(changed, terraform_policies(&text));
}

/// The action's inputs, read from action.yml.
fn action_inputs() -> BTreeSet<String> {
    let action = yaml_as_json(&root().join("action.yml"));
    assert_eq!(action["runs"]["using"], "composite");
    action["inputs"].as_object().unwrap().keys().cloned().collect()
}

#[test]
fn action_inputs_are_the_ones_the_readme_documents() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme.split("### The GitHub Action").nth(1).expect("README has no section \"### The GitHub Action\"");
    let section = section.split("\n#").next().unwrap();
    let documented: BTreeSet<String> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .map(|l| l.split('`').next().unwrap().to_string())
        .collect();
    assert_eq!(action_inputs(), documented, "action.yml inputs vs the README's table");
}

/// The action's "Run trailproof" step, run by bash with the real binary on PATH: the words of
/// `args` (one of them quoted, with a space) reach trailproof whole, the SARIF is written, and the
/// exit status is passed on.
fn run_step(command: &str, args: &str) -> (String, tempfile::TempDir) {
    let action = yaml_as_json(&root().join("action.yml"));
    let step = action["runs"]["steps"].as_array().unwrap().iter().find(|s| s["id"] == "run").expect("no step with id run").clone();
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_trailproof"), bin.join("trailproof")).unwrap();
    let output = dir.path().join("github-output");
    let status = Command::new("bash")
        .args(["-e", "-c", step["run"].as_str().unwrap()])
        .current_dir(root())
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env("GITHUB_OUTPUT", &output)
        .env("TRAILPROOF_COMMAND", command)
        .env("TRAILPROOF_ARGS", args)
        .env("TRAILPROOF_SARIF", dir.path().join("out.sarif"))
        .status()
        .unwrap();
    let outputs = std::fs::read_to_string(&output).unwrap_or_default();
    if !status.success() {
        return (format!("step failed: {status}; {outputs}"), dir);
    }
    (outputs, dir)
}

#[test]
fn action_run_step_writes_sarif_and_passes_the_exit_status_on() {
    let args = "--source testdata/sample --public-keys testdata/public-keys.json \
        --trail-arn arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events \
        --start-time '2026-03-01 00:00:00' --end-time \"2026-03-02T12:17:42Z\"";
    let (outputs, dir) = run_step("validate-logs", args);
    assert_eq!(outputs.trim(), "exit-code=0");
    let sarif: Value = serde_json::from_slice(&std::fs::read(dir.path().join("out.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");

    // A range with no digests at all cannot be judged (3): the status reaches the step's output,
    // and the step itself succeeds so that the SARIF is uploaded before the gate fails.
    let (outputs, _dir) = run_step("validate-logs", &args.replace("2026-03-01 00:00:00", "2026-04-01 00:00:00").replace("2026-03-02T12:17:42Z", "2026-04-02T00:00:00Z"));
    assert_eq!(outputs.trim(), "exit-code=3");

    let (outputs, _dir) = run_step("export", "");
    assert!(outputs.starts_with("step failed"), "only validate-logs and baseline may run: {outputs}");
}

/// deploy/aws-batch.yaml: the AWS Batch array job of organization-scale audits.
fn batch_template() -> std::path::PathBuf {
    root().join("deploy/aws-batch.yaml")
}

#[test]
fn aws_batch_template_passes_cfn_lint() {
    let (code, report) = cfn_lint(&batch_template());
    assert_eq!((code, report.as_str()), (0, ""), "cfn-lint found problems in deploy/aws-batch.yaml");
    // The check can fail: a misspelled property of the job definition is refused.
    let text = std::fs::read_to_string(batch_template()).unwrap();
    let broken = text.replacen("      PlatformCapabilities:", "      PlatformCapability:", 1);
    let report = cfn_lint_refuses(&text, broken);
    assert!(report.contains("PlatformCapability"), "{report}");
}

/// The job definition's command, with Batch's parameters filled in, is one the binary takes: a
/// child with only the array variables set reaches the plan (here absent: exit 2, naming it).
/// The job role allows only what validate-logs' policy does, plus writing the reports.
#[test]
fn aws_batch_child_command_runs_and_its_role_is_least_privilege() {
    let template = yaml_as_json(&batch_template());
    let job = &template["Resources"]["ShardJobDefinition"]["Properties"];
    assert_eq!(job["PlatformCapabilities"][0], "FARGATE");
    let dir = tempfile::tempdir().unwrap();
    let plan = path_str(&dir.path().join("plan.json"));
    let reports = path_str(&dir.path().join("reports"));
    let command: Vec<String> = job["ContainerProperties"]["Command"].as_array().unwrap().iter()
        .map(|a| a.as_str().unwrap().replace("Ref::plan", &plan).replace("Ref::reportdir", &reports))
        .collect();
    let mut env = offline_env();
    env.push(("AWS_BATCH_JOB_ARRAY_INDEX", "3".into()));
    env.push(("AWS_BATCH_JOB_ARRAY_SIZE", "10".into()));
    let run = trailproof(&command.iter().map(String::as_str).collect::<Vec<_>>(), &env);
    assert_eq!(run.code, 2, "{command:?}: {}", run.stderr);
    assert!(run.stderr.contains(&format!("--plan {plan}: no such file")), "{}", run.stderr);
    // Without the array variables, the child says which are missing.
    let run = trailproof(&command.iter().map(String::as_str).collect::<Vec<_>>(), &offline_env());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("AWS_BATCH_JOB_ARRAY_INDEX"), "{}", run.stderr);

    let role = &template["Resources"]["JobRole"]["Properties"]["Policies"][0]["PolicyDocument"];
    let allowed: BTreeSet<String> = statements(role).into_values().flatten().collect();
    let mut validate_logs = policy_actions("validate-logs.json");
    validate_logs.insert("s3:PutObject".into());
    assert!(allowed.is_subset(&validate_logs), "the job role allows more than validate-logs and writing reports: {:?}", allowed.difference(&validate_logs).collect::<Vec<_>>());
    assert!(!allowed.contains("cloudtrail:DescribeTrails"), "a shard needs no DescribeTrails: the plan names the bucket");
}

/// kubernetes-validate (pinned in tests/emulator/requirements.txt) over a manifest: its exit
/// status and report.
fn kubernetes_validate(path: &Path) -> (i32, String) {
    python_tool(&["-m", "kubernetes_validate", "--strict", "--kubernetes-version", "1.37.0"], path, "kubernetes-validate")
}

fn k8s_manifest() -> std::path::PathBuf {
    root().join("deploy/k8s-indexed-job.yaml")
}

#[test]
fn k8s_indexed_job_fits_the_kubernetes_schema() {
    let (code, report) = kubernetes_validate(&k8s_manifest());
    assert_eq!(code, 0, "deploy/k8s-indexed-job.yaml does not fit the Kubernetes schema: {report}");
    assert!(report.contains("passed for resource job/"), "{report}");
    // The check can fail: a misspelled field and a mistyped one are refused.
    let text = std::fs::read_to_string(k8s_manifest()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (from, to, says) in [("completionMode: Indexed", "completionMod: Indexed", "completionMod"), ("completions: 50", "completions: fifty", "fifty")] {
        let broken = text.replacen(from, to, 1);
        assert_ne!(broken, text);
        let path = dir.path().join("broken.yaml");
        std::fs::write(&path, broken).unwrap();
        let (code, report) = kubernetes_validate(&path);
        assert_ne!(code, 0, "kubernetes-validate accepted {to}: {report}");
        assert!(report.contains(says), "{report}");
    }
}

/// The Job's documents, through PyYAML.
fn k8s_documents() -> Vec<Value> {
    let out = Command::new(python())
        .args(["-c", "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))"])
        .arg(k8s_manifest())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {NEEDS_VENV}", python().display()));
    assert!(out.status.success(), "PyYAML: {}; {NEEDS_VENV}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The Indexed Job's container arguments are a shard the binary takes with only
/// JOB_COMPLETION_INDEX set, and its --shard-count is the Job's completions.
#[test]
fn k8s_indexed_job_runs_one_shard_per_index() {
    let docs = k8s_documents();
    let job = docs.iter().find(|d| d["kind"] == "Job").expect("a Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    let args: Vec<String> = job["spec"]["template"]["spec"]["containers"][0]["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    let count = args.iter().position(|a| a == "--shard-count").map(|i| args[i + 1].clone()).expect("--shard-count in the args");
    assert_eq!(job["spec"]["completions"].to_string(), count, "completions and --shard-count differ");
    let dir = tempfile::tempdir().unwrap();
    let plan = path_str(&dir.path().join("plan.json"));
    let at = args.iter().position(|a| a == "--plan").unwrap() + 1;
    let mut local = args.clone();
    local[at] = plan.clone();
    let mut env = offline_env();
    env.push(("JOB_COMPLETION_INDEX", "49".into()));
    let run = trailproof(&local.iter().map(String::as_str).collect::<Vec<_>>(), &env);
    assert_eq!(run.code, 2, "{local:?}: {}", run.stderr);
    assert!(run.stderr.contains(&format!("--plan {plan}: no such file")), "{}", run.stderr);
    env.pop();
    env.push(("JOB_COMPLETION_INDEX", count.clone()));
    let run = trailproof(&local.iter().map(String::as_str).collect::<Vec<_>>(), &env);
    assert!(run.code == 2 && run.stderr.contains("not below the shard count"), "{}", run.stderr);
}
