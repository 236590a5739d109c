//! baseline and filter test: the account's alerting judged against a baseline, and filter
//! patterns tried on log files; and `schema`, the JSON documents' schemas.
use chrono::Utc;

use super::*;
use crate::baseline::{self, builtin, model::Lines, snapshot::AccountSnapshot, Baseline, Compiled};
use crate::report::cases::Origin;
use crate::filter_pattern;

/// The chosen baseline, what to name when its rules turn out inconsistent, and for a file where
/// its entries are (SARIF points at them).
pub(super) fn load_baseline(choice: &BaselineChoice) -> Result<(Baseline, String, Option<Lines>), RunError> {
    if builtin::NAMES.contains(&choice.baseline.as_str()) {
        let mut params = builtin::Params::default();
        for p in &choice.params {
            params.set(p).map_err(RunError::Usage)?;
        }
        let baseline = builtin::by_name(&choice.baseline, &params).ok_or_else(|| RunError::Usage(format!("no built-in baseline {}", choice.baseline)))?;
        // Parameters reach patterns (IP lists, regions): a combination may break a rule.
        return Ok((baseline, "--param".into(), None));
    }
    if !choice.params.is_empty() {
        return Err(RunError::Usage("--param applies to built-in baselines; edit the baseline file instead".into()));
    }
    let text = std::fs::read_to_string(&choice.baseline)
        .map_err(|e| RunError::Usage(format!("--baseline {}: not a built-in baseline ({}) and not a readable file: {e}", choice.baseline, builtin::NAMES.join(", "))))?;
    let baseline = Baseline::from_toml(&text).map_err(|e| RunError::Usage(format!("{}: {e}", choice.baseline)))?;
    Ok((baseline, choice.baseline.clone(), Some(Lines::of(&text))))
}

/// Checks the baseline's rules against their own corpora, once per run; an inconsistent baseline
/// would judge deployed filters wrongly, so it is a usage error.
fn compile<'a>(baseline: &'a Baseline, named: &str) -> Result<Compiled<'a>, RunError> {
    baseline.compile().map_err(|e| RunError::Usage(format!("{named}: {e}")))
}

pub(super) async fn baseline(aws_opts: &AwsOptions, args: BaselineArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    if let Some(BaselineCommand::Init(init)) = args.command {
        let (b, named, _) = load_baseline(&init.choice)?;
        compile(&b, &named)?;
        let text = format!("{}{}", baseline::model::FILE_HEADER, b.to_toml());
        match &init.out {
            Some(path) => std::fs::write(path, text).map_err(|e| RunError::Unavailable(format!("{}: {e}", path.display())))?,
            None => out.write_all(text.as_bytes()).map_err(|e| RunError::Unavailable(e.to_string()))?,
        }
        return Ok(0);
    }
    let args = args.check;
    let (b, named, lines) = load_baseline(&args.choice)?;
    let compiled = compile(&b, &named)?;
    let snapshot = match &args.snapshot {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| RunError::Usage(format!("--snapshot {}: {e}", path.display())))?;
            serde_json::from_slice::<AccountSnapshot>(&bytes).map_err(|e| RunError::Usage(format!("--snapshot {}: not a trailproof snapshot: {e}", path.display())))?
        }
        None => baseline::gather::gather(aws_opts).await.map_err(RunError::Unavailable)?,
    };
    if let Some(path) = &args.save_snapshot {
        let value = serde_json::to_value(&snapshot).map_err(|e| RunError::Unavailable(e.to_string()))?;
        write_json(path, &value)?;
    }
    let report = baseline::evaluate(&compiled, &snapshot, Utc::now());
    let origin = match &lines {
        Some(lines) => Origin::File { path: &args.choice.baseline, lines },
        None => Origin::Builtin,
    };
    // Machine formats stay whole documents under --quiet.
    let written = match args.output {
        Format::Text if args.quiet => crate::report::text::baseline_summary(&report, out),
        format => crate::report::write_baseline(&report, &origin, format, out),
    };
    written.map_err(|e| RunError::Unavailable(format!("writing the report: {e}")))?;
    Ok(report.exit_code())
}

pub(super) fn filter_test(args: FilterTestArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let pattern = filter_pattern::parse(&args.pattern).map_err(|e| RunError::Usage(format!("invalid filter pattern: {e}\n  {}\n  {}^", args.pattern, " ".repeat(e.offset.min(args.pattern.len())))))?;
    let limit = Limits::default().max_log_inflated;
    let inputs: Vec<(String, Vec<u8>)> = if args.files.is_empty() {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map_err(|e| RunError::Unavailable(format!("stdin: {e}")))?;
        vec![("stdin".into(), buf)]
    } else {
        args.files
            .iter()
            .map(|f| std::fs::read(f).map(|b| (f.display().to_string(), b)).map_err(|e| RunError::Usage(format!("{}: {e}", f.display()))))
            .collect::<Result<_, _>>()?
    };
    let (mut total, mut matched) = (0usize, 0usize);
    let io = |e: std::io::Error| RunError::Unavailable(e.to_string());
    for (name, bytes) in inputs {
        let events = filter_pattern::read_events(&bytes, limit).map_err(|e| RunError::Usage(format!("{name}: {e}")))?;
        total += events.len();
        for event in events.iter().filter(|e| pattern.matches(e)) {
            matched += 1;
            if !args.count {
                writeln!(out, "{}", event.text()).map_err(io)?;
            }
        }
    }
    if args.count {
        writeln!(out, "{matched}").map_err(io)?;
    } else {
        eprintln!("{matched} of {total} events matched");
    }
    Ok(0)
}

pub(super) fn schema(args: SchemaArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let schema = crate::report::schema::of(args.document);
    serde_json::to_writer_pretty(&mut *out, &schema)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .map_err(|e| RunError::Unavailable(format!("writing the schema: {e}")))?;
    Ok(0)
}
