//! What the command line says about itself: each command's examples and exit status (its long
//! help, `--help`), shell completions and the man pages, all from the one clap definition.
use std::io::Write;

use clap::CommandFactory;

use super::{Cli, CompletionsArgs, ManArgs, RunError};

pub const TOP: &str = "\
Examples:
  trailproof validate-logs --trail-arn arn:aws:cloudtrail:us-east-1:111122223333:trail/main --start-time 2026-03-01
  trailproof baseline --baseline cis --output sarif > baseline.sarif
  trailproof completions bash > ~/.local/share/bash-completion/completions/trailproof

Exit status:
  Each command's --help (and its man page, trailproof-COMMAND) lists its own.";

pub const VALIDATE_LOGS: &str = "\
Examples:
  # Like the AWS CLI: bucket from DescribeTrails, keys from ListPublicKeys.
  trailproof validate-logs --trail-arn arn:aws:cloudtrail:us-east-1:111122223333:trail/main \\
      --start-time 2026-03-01T00:00:00Z --end-time 2026-03-08T00:00:00Z
  # Every region, JSON for a pipeline, from another profile.
  trailproof --profile audit validate-logs --trail-arn ARN --start-time 2026-03-01 --all-regions -o json > report.json
  # Offline: an evidence copy and a saved key file; only the verdict and summary.
  trailproof validate-logs --source ./evidence --public-keys keys.json --trail-arn ARN --start-time 2026-03-01 -q
  # A scheduled audit: each run checks only what is new since the last, and proves the link.
  trailproof validate-logs --trail-arn ARN --all-regions --checkpoint s3://audit-bucket/trailproof/main.json
  # One child of an array job (AWS Batch sets the index and size): its shard of a plan.
  trailproof validate-logs --plan s3://audit-bucket/plans/2025.json --report-dir s3://audit-bucket/reports/2025

Exit status:
  0  Everything in range was checked and is valid (warnings, such as gaps between chains, may remain).
  1  At least one error finding: something is tampered with, missing or malformed.
  2  Usage or configuration error: a bad flag, ARN, time or key file.
  3  Incomplete: something in range was not checked (an access_error or unchecked finding says what),
     nothing in range could be checked, or a prerequisite (trail lookup, bucket region, organization,
     region discovery) failed.
  Tampering outranks incompleteness: error findings and unchecked ones together exit 1.";

pub const PLAN: &str = "\
Examples:
  # An organization trail, every account and region, a year, in weekly slices.
  trailproof plan --trail-arn arn:aws:cloudtrail:us-east-1:111122223333:trail/org --all-accounts --all-regions \\
      --start-time 2025-01-01 --end-time 2026-01-01 --slice 7d --out s3://audit-bucket/plans/2025.json --shards 500
  # Then each child of an array job of N runs its shard, and one merge joins them:
  trailproof validate-logs --plan s3://audit-bucket/plans/2025.json --report-dir s3://audit-bucket/reports/2025
  trailproof merge --plan s3://audit-bucket/plans/2025.json --report-dir s3://audit-bucket/reports/2025 -o json

A unit is one chain (account, region) over the range, or one slice of it. The plan_id is the SHA-256
of the canonical units (with the trail and bucket): a report names the plan it belongs to.

Exit status:
  0  The plan was written.
  2  Usage or configuration error: a bad flag, ARN, time or --slice.
  3  Discovery failed (trail lookup, organization, listing accounts or regions) or --out could not be written.";

pub const MERGE: &str = "\
Examples:
  trailproof merge --plan plan.json --report-dir reports/ -o json > report.json
  # Plan and reports in S3, SARIF for code scanning.
  trailproof merge --plan s3://audit-bucket/trailproof/plans/2025.json --report-dir s3://audit-bucket/trailproof/reports/2025 -o sarif

The report has validate-logs' shape and verdict rules. Counts are summed per unit: objects in the
one-hour overlap of neighbouring slices are counted in both. A finding an earlier slice of the same
chain reported is reported once. A unit without a report (its shard never ran or failed), or with a
report for another plan, is an unchecked error naming the unit.

Exit status:
  0  Every unit's report is there and everything is valid.
  1  At least one error finding in some unit.
  2  Usage error: a bad flag, an unreadable or edited plan, a report dir that is not a directory.
  3  Incomplete: a unit without its report (or with another plan's), or something unchecked.";

pub const EXPORT: &str = "\
Examples:
  trailproof export --trail-arn arn:aws:cloudtrail:us-east-1:111122223333:trail/main \\
      --start-time 2026-03-01 --end-time 2026-03-08 --out ./evidence
  trailproof export --trail-arn ARN --start-time 2026-03-01 --all-regions --out ./evidence --public-keys keys.json

Exit status:
  0  Everything the validation reads was copied (the copy may still hold invalid evidence: validate it).
  2  Usage or configuration error: a bad flag, ARN, time, key file or output directory.
  3  Something could not be read or copied, or a prerequisite (trail lookup, bucket region) failed.";

pub const KEYS_EXPORT: &str = "\
Examples:
  trailproof keys export --key-region us-east-1 --start-time 2026-02-28T22:00:00Z \\
      --end-time 2026-03-08T02:00:00Z --out keys.json
  trailproof keys export --key-region us-east-1 --key-region eu-west-1 --start-time 2026-03-01 --out keys.json

Exit status:
  0  The key file was written.
  2  Usage error: a bad flag or time.
  3  ListPublicKeys failed, or the file could not be written.";

pub const BASELINE: &str = "\
Examples:
  trailproof baseline
  trailproof baseline --baseline essentials --param home_region=eu-west-1 -o json
  trailproof baseline --baseline baselines/prod.toml --output sarif > baseline.sarif
  trailproof baseline --snapshot account.json -q

Exit status:
  0  Every check passes (or is skipped by an exception).
  1  At least one check fails: the account drifted from the baseline.
  2  Usage error: a bad flag, baseline file, parameter or snapshot.
  3  Nothing fails, but a check could not be evaluated (a denied or failed API call), or AWS could not
     be reached at all. A failing check outranks one that could not be evaluated.";

pub const BASELINE_INIT: &str = "\
Examples:
  trailproof baseline init --baseline cis --out baselines/prod.toml
  trailproof baseline init --baseline essentials --param home_region=eu-west-1 > essentials.toml

Exit status:
  0  The baseline was written.
  2  Usage error: an unknown baseline, a bad parameter, or rules that contradict their own examples.
  3  The file could not be written.";

pub const FILTER_TEST: &str = "\
Examples:
  trailproof filter test '{ $.eventName = ConsoleLogin }' logs/*.json.gz --count
  aws logs filter-log-events --log-group-name trail --query 'events[].message' --output text \\
      | trailproof filter test '{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") }'

Exit status:
  0  The pattern was applied (whether or not any event matched).
  2  Usage error: an invalid pattern, or an unreadable or malformed input file.
  3  Standard input could not be read.";

pub const COMPLETIONS: &str = "\
Examples:
  trailproof completions bash > ~/.local/share/bash-completion/completions/trailproof
  trailproof completions zsh > \"${fpath[1]}/_trailproof\"
  trailproof completions fish > ~/.config/fish/completions/trailproof.fish

Exit status:
  0  The script was written.
  2  Usage error: an unknown shell.";

pub const BACKTEST: &str = "\
Examples:
  # The account's own filters and alarms, over a month of verified evidence.
  trailproof backtest --trail-arn ARN --start-time -30d --threshold-sweep 1,2,5,10
  # Offline: an evidence copy, a key file and a saved snapshot; JSON for a notebook.
  trailproof backtest --source ./evidence --public-keys keys.json --trail-arn ARN --start-time 2026-03-01 \\
      --end-time 2026-04-01 --snapshot account.json -o json > backtest.json
  # Try a proposed alert set before deploying it.
  trailproof backtest --trail-arn ARN --start-time -7d --baseline cis --param threshold=5

Exit status:
  0  The backtest ran on fully verified evidence.
  1  The evidence has error findings (tampering): the backtest ran on the verified part only.
  2  Usage error: a bad flag, snapshot or baseline, or a trail the snapshot does not hold.
  3  The evidence is incomplete (something could not be checked); the backtest ran on the verified part.";

pub const EVENTS: &str = "\
Examples:
  trailproof events --trail-arn ARN --start-time -24h > proven.jsonl
  trailproof events --source ./evidence --public-keys keys.json --trail-arn ARN --start-time 2026-03-01 \\
      --filter '{ $.userIdentity.type = Root }' --provenance

Records of log files that did not verify are never printed.

Exit status:
  0  Everything in range was checked and is valid (as validate-logs).
  1  The evidence has error findings; only verified records were printed.
  2  Usage error.
  3  Something could not be checked; only verified records were printed.";

pub const SCHEMA: &str = "\
Examples:
  trailproof schema validate-logs > validate-logs.schema.json
  trailproof schema baseline | check-jsonschema --schemafile /dev/stdin report.json

Exit status:
  0  The schema was written.
  2  Usage error: an unknown document.";

pub const MAN: &str = "\
Examples:
  trailproof man | man -l -
  trailproof man --out /usr/local/share/man/man1

Exit status:
  0  The page (or pages) were written.
  2  Usage error: a bad flag.
  3  A page could not be written.";

pub(super) fn completions(args: CompletionsArgs, out: &mut dyn Write) -> Result<i32, RunError> {
    clap_complete::generate(args.shell, &mut Cli::command(), "trailproof", out);
    Ok(0)
}

/// One roff page for the whole command on standard output, or one page per command under
/// `--out DIR` (trailproof.1, trailproof-validate-logs.1, …), as packagers install them.
pub(super) fn man(args: ManArgs, out: &mut dyn Write) -> Result<i32, RunError> {
    // `trailproof help` is --help again: no page of its own.
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    match &args.out {
        None => page(&command, out).map_err(|e| RunError::Unavailable(format!("writing the man page: {e}")))?,
        Some(dir) => {
            let failed = |e: std::io::Error| RunError::Unavailable(format!("man --out {}: {e}; give a directory you can write to", dir.display()));
            std::fs::create_dir_all(dir).map_err(failed)?;
            pages(&command, dir).map_err(failed)?;
        }
    }
    Ok(0)
}

fn pages(command: &clap::Command, dir: &std::path::Path) -> std::io::Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages(sub, dir)?;
    }
    let name = command.get_display_name().unwrap_or_else(|| command.get_name());
    let mut file = std::io::BufWriter::new(std::fs::File::create(dir.join(format!("{name}.1")))?);
    page(command, &mut file)?;
    file.flush()
}

/// clap_mangen's sections, with the long help's examples and exit status as sections of their
/// own (EXAMPLES, EXIT STATUS) set unfilled, so that commands and tables keep their lines.
fn page(command: &clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    if command.has_subcommands() {
        man.render_subcommands_section(out)?;
    }
    if let Some(text) = command.get_after_long_help() {
        let mut roff = roff::Roff::new();
        for block in text.to_string().split("\n\n") {
            let mut lines = block.lines();
            let heading = lines.next().unwrap_or_default().trim_end_matches(':').to_uppercase();
            roff.control("SH", [heading.as_str()]).control("nf", []);
            for line in lines {
                roff.text([roff::roman(line)]);
            }
            roff.control("fi", []);
        }
        roff.to_writer(out)?;
    }
    man.render_version_section(out)
}
