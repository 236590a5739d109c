//! The backtest report as one self-contained HTML page (`--output html`): inline CSS and inline
//! SVG, no script, no font, no URL, so it opens offline, from an evidence archive or a CI
//! artifact, and prints as it shows.
//!
//! Every string that comes from the evidence or the account (event names, principals, IP
//! addresses, error codes, alarm and filter names, patterns) is attacker-influenced even in
//! verified logs: it is written only as escaped element text, never inside an attribute, and cut
//! to [`MAX_TEXT`] characters. Attributes hold only numbers and fixed words.
//!
//! The page is bounded whatever the range: each alarm's timeline (one entry per period, 525,600
//! for a year at 60 s) is drawn as at most [`MAX_MARKS`] marks, each the min-to-max range of
//! the datapoints of consecutive periods; ALARM periods are drawn as shaded runs, merged only
//! when closer than a mark's width and never narrower than [`MIN_RUN_WIDTH`], so every ALARM
//! period stays visible. Top drivers are the model's (at most [`TOP_N`] per field).
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use chrono::{DateTime, Utc};

use super::alarm::AlarmState;
use super::report::{AlarmResult, BacktestReport, TOP_N};

/// Most marks (datapoint bars, ALARM runs, unverified spans) drawn per chart.
pub const MAX_MARKS: usize = 2000;
/// Longest string from the evidence shown, in characters (the JSON output has it whole).
pub const MAX_TEXT: usize = 200;
/// Most unverified spans listed in the table (all are drawn, merged, on the coverage chart).
pub const MAX_SPAN_ROWS: usize = 100;

/// Chart geometry, in SVG user units (the SVG scales to the page width).
const WIDTH: f64 = 1000.0;
const PLOT_X: f64 = 60.0;
const PLOT_W: f64 = WIDTH - PLOT_X - 10.0;
const PLOT_H: f64 = 160.0;
const AXIS_H: f64 = 22.0;
/// An ALARM run or unverified span is never drawn narrower than this, so a single period in a
/// year still shows.
const MIN_RUN_WIDTH: f64 = 2.0;

const CSS: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1b1f24;background:#fff;margin:0 auto;max-width:1100px;padding:16px 24px}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 6px;border-top:1px solid #d0d7de;padding-top:14px}h3{font-size:15px;margin:14px 0 4px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:4px 0 10px}th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f3f5f7}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.tops{display:flex;flex-wrap:wrap;gap:12px}.tops table{min-width:200px;max-width:100%}
.verdict{font-weight:700;padding:1px 8px;border-radius:3px}.valid{background:#d7f0dc}.invalid{background:#f8d0d0}.incomplete{background:#fbe7b5}
svg{display:block;width:100%;height:auto;margin:6px 0}
svg text{font:11px system-ui,sans-serif;fill:#444}
.legend span{display:inline-block;width:12px;height:12px;vertical-align:-2px;margin:0 4px 0 12px;border:1px solid #999}
.muted{color:#57606a}
@media print{body{max-width:none;padding:0}section{break-inside:avoid}h2{break-after:avoid}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
";

/// Colours, shared by the charts and their legends (and the browser test, which looks for them).
pub const ALARM_FILL: &str = "#f4b6b6";
pub const VERIFIED_FILL: &str = "#bfe3c6";
pub const UNVERIFIED_FILL: &str = "#e0524f";
const DATA_STROKE: &str = "#1f5fbf";
const STEM_STROKE: &str = "#8fb0e0";
const THRESHOLD_STROKE: &str = "#b3261e";

/// Writes the report as one self-contained HTML page.
pub fn write_html(report: &BacktestReport, out: &mut dyn Write) -> io::Result<()> {
    // Built in memory (a bounded page), written once.
    let mut h = String::with_capacity(64 * 1024);
    page(report, &mut h).map_err(io::Error::other)?;
    out.write_all(h.as_bytes())
}

fn page(r: &BacktestReport, h: &mut String) -> std::fmt::Result {
    let e = &r.evidence;
    writeln!(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")?;
    writeln!(
        h,
        "<title>Backtest of {}</title>\n<style>{CSS}</style>\n</head>\n<body>",
        text(&r.trail_arn)
    )?;
    writeln!(
        h,
        "<h1>Alarm backtest</h1>\n<p>Trail <code>{}</code><br>from {} to {}</p>",
        text(&r.trail_arn),
        text(&r.requested.start_time),
        text(&r.requested.end_time)
    )?;

    // Evidence first: the counts below mean nothing without it.
    let verdict = e.verdict.as_str();
    write!(h, "<section>\n<h2>Evidence</h2>\n<p>Verdict <span class=\"verdict {verdict}\">{verdict}</span>. ")?;
    writeln!(h, "{} log files replayed ({} events); {} log files did not verify and were never replayed.</p>", e.log_files_replayed, e.events_replayed, e.log_files_unverified)?;
    coverage(r, h)?;
    h.push_str("</section>\n");

    let mut order: Vec<(usize, &AlarmResult)> = r.alarms.iter().enumerate().collect();
    order.sort_by(|(_, a), (_, b)| {
        b.alarm_entries
            .cmp(&a.alarm_entries)
            .then_with(|| a.alarm_name.cmp(&b.alarm_name))
    });
    h.push_str("<section>\n<h2>Alarms</h2>\n");
    if order.is_empty() {
        h.push_str("<p>No alarm was replayed.</p>\n");
    } else {
        h.push_str("<table>\n<tr><th>Alarm</th><th>Would have paged</th><th>Per week</th><th>Time in ALARM</th><th>Matched events</th></tr>\n");
        for (i, a) in &order {
            writeln!(h,
                "<tr><td><a href=\"#alarm-{i}\">{}</a></td><td class=\"n\">{}</td><td class=\"n\">{:.2}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                text(&a.alarm_name),
                a.alarm_entries,
                a.entries_per_week,
                duration(a.time_in_alarm_s),
                a.matched_events
            )?;
        }
        h.push_str("</table>\n");
    }
    h.push_str("</section>\n");
    for (i, a) in &order {
        alarm(*i, a, h)?;
    }

    if !r.filters_without_alarm.is_empty() {
        h.push_str("<section>\n<h2>Filters without an alarm</h2>\n<p>Their metric has no alarm: matches page no one.</p>\n<table>\n<tr><th>Filter</th><th>Log group</th><th>Matched events</th></tr>\n");
        for f in &r.filters_without_alarm {
            writeln!(
                h,
                "<tr><td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td></tr>",
                text(&f.filter_name),
                text(&f.log_group),
                f.matched_events
            )?;
        }
        h.push_str("</table>\n</section>\n");
    }
    if !r.not_replayed.is_empty() {
        h.push_str("<section>\n<h2>Not replayed</h2>\n<table>\n<tr><th>Kind</th><th>Name</th><th>Why</th></tr>\n");
        for n in &r.not_replayed {
            writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(n.kind),
                text(&n.name),
                text(&n.reason)
            )?;
        }
        h.push_str("</table>\n</section>\n");
    }
    h.push_str("<p class=\"muted\">Made by trailproof backtest. Only records of log files that verified against an authentic digest were replayed.</p>\n</body>\n</html>\n");
    Ok(())
}

/// The verified and unverified spans of the requested range, on one time axis.
fn coverage(r: &BacktestReport, h: &mut String) -> std::fmt::Result {
    let spans = &r.evidence.unverified_spans;
    let range = parse(&r.requested.start_time)
        .zip(parse(&r.requested.end_time))
        .filter(|(s, e)| e > s);
    // One row per (account, region) with a hole; every other target verified over the whole range.
    let mut rows: Vec<(&str, &str)> = spans
        .iter()
        .map(|s| (s.account_id.as_str(), s.region.as_str()))
        .collect();
    rows.sort_unstable();
    rows.dedup();
    if let Some((start, end)) = range {
        let axis = Axis::new(start.timestamp() as f64, end.timestamp() as f64);
        let row_h = 22.0;
        let labels = if rows.is_empty() { 1 } else { rows.len() };
        let height = labels as f64 * row_h + AXIS_H + 6.0;
        writeln!(h, "<svg viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"evidence coverage\" shape-rendering=\"crispEdges\">\n<title>Evidence coverage: green verified and replayed, red not replayed</title>")?;
        if rows.is_empty() {
            write!(
                h,
                "<text x=\"{}\" y=\"15\" text-anchor=\"end\">all</text>",
                PLOT_X - 4.0
            )?;
            writeln!(h, "<rect x=\"{PLOT_X}\" y=\"3\" width=\"{PLOT_W}\" height=\"16\" fill=\"{VERIFIED_FILL}\"/>")?;
        }
        for (k, (account, region)) in rows.iter().enumerate() {
            let y = k as f64 * row_h + 3.0;
            // The region name is evidence too: element text only.
            write!(
                h,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                PLOT_X - 4.0,
                y + 12.0,
                text(region)
            )?;
            writeln!(h, "<rect x=\"{PLOT_X}\" y=\"{y}\" width=\"{PLOT_W}\" height=\"16\" fill=\"{VERIFIED_FILL}\"/>")?;
            let holes = spans
                .iter()
                .filter(|s| s.account_id == *account && s.region == *region)
                .filter_map(|s| {
                    Some((
                        axis.x(parse(&s.start_time)?.timestamp() as f64),
                        axis.x(parse(&s.end_time)?.timestamp() as f64),
                    ))
                });
            for (x0, x1) in merge_runs(holes, PLOT_W / MAX_MARKS as f64) {
                write!(h, "<rect x=\"{}\" y=\"{y}\" width=\"{}\" height=\"16\" fill=\"{UNVERIFIED_FILL}\"/>", num(x0), num((x1 - x0).max(MIN_RUN_WIDTH)))?;
            }
            h.push('\n');
        }
        time_axis(&axis, labels as f64 * row_h + 3.0, h)?;
        h.push_str("</svg>\n");
        writeln!(h, "<p class=\"legend\"><span style=\"background:{VERIFIED_FILL}\"></span>verified, replayed<span style=\"background:{UNVERIFIED_FILL}\"></span>not verified, never replayed</p>")?;
    }
    if spans.is_empty() {
        h.push_str("<p>Every log file of the range verified: nothing was left out.</p>\n");
    } else if range.is_some() {
        h.push_str("<p>Regions not drawn were verified and replayed over the whole range.</p>\n");
    }
    if !spans.is_empty() {
        h.push_str("<h3>Not replayed</h3>\n<table>\n<tr><th>Account</th><th>Region</th><th>From</th><th>To</th></tr>\n");
        for s in spans.iter().take(MAX_SPAN_ROWS) {
            writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(&s.account_id),
                text(&s.region),
                text(&s.start_time),
                text(&s.end_time)
            )?;
        }
        h.push_str("</table>\n");
        if spans.len() > MAX_SPAN_ROWS {
            writeln!(
                h,
                "<p>… and {} more (all are in <code>--output json</code>).</p>",
                spans.len() - MAX_SPAN_ROWS
            )?;
        }
    }
    Ok(())
}

fn alarm(i: usize, a: &AlarmResult, h: &mut String) -> std::fmt::Result {
    writeln!(
        h,
        "<section id=\"alarm-{i}\">\n<h2>{}</h2>",
        text(&a.alarm_name)
    )?;
    writeln!(h,
        "<p><b>Would have paged {} times</b> ({:.2} per week); {} events matched, {} breaching periods, {} in ALARM.<br>\n<span class=\"muted\">{} of <code>{}/{}</code> per {} s {} {}, {} of {} datapoints to alarm, missing data: {}</span></p>",
        a.alarm_entries,
        a.entries_per_week,
        a.matched_events,
        a.breaching_periods,
        duration(a.time_in_alarm_s),
        text(&a.statistic),
        text(&a.namespace),
        text(&a.metric_name),
        a.period_s,
        text(&a.comparison),
        num(a.threshold),
        a.datapoints_to_alarm,
        a.evaluation_periods,
        text(&a.treat_missing_data)
    )?;
    timeline(a, h)?;
    let fields = [
        ("eventName", &a.top.eventName),
        ("principal", &a.top.principal),
        ("sourceIPAddress", &a.top.sourceIPAddress),
        ("awsRegion", &a.top.awsRegion),
        ("errorCode", &a.top.errorCode),
    ];
    if fields.iter().any(|(_, l)| !l.is_empty()) {
        h.push_str("<h3>Top drivers</h3>\n<div class=\"tops\">\n");
        for (field, list) in fields.iter().filter(|(_, l)| !l.is_empty()) {
            writeln!(h, "<table>\n<tr><th>{field}</th><th>events</th></tr>")?;
            for (value, count) in list.iter().take(TOP_N) {
                writeln!(
                    h,
                    "<tr><td class=\"mono\">{}</td><td class=\"n\">{count}</td></tr>",
                    text(value)
                )?;
            }
            h.push_str("</table>\n");
        }
        h.push_str("</div>\n");
    }
    if !a.sweep.is_empty() {
        h.push_str("<h3>Threshold sweep</h3>\n<table>\n<tr><th>Threshold</th><th>Would have paged</th></tr>\n");
        for p in &a.sweep {
            let current = if p.threshold == a.threshold {
                " (current)"
            } else {
                ""
            };
            writeln!(
                h,
                "<tr><td class=\"n\">{}{current}</td><td class=\"n\">{}</td></tr>",
                num(p.threshold),
                p.alarm_entries
            )?;
        }
        h.push_str("</table>\n");
    }
    if !a.filters.is_empty() {
        h.push_str("<h3>Metric filters</h3>\n<table>\n<tr><th>Filter</th><th>Log group</th><th>Pattern</th></tr>\n");
        for f in &a.filters {
            writeln!(
                h,
                "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                text(&f.filter_name),
                text(&f.log_group),
                text(&f.pattern)
            )?;
        }
        h.push_str("</table>\n");
    }
    h.push_str("</section>\n");
    Ok(())
}

/// The datapoints against the threshold, ALARM periods shaded.
fn timeline(a: &AlarmResult, h: &mut String) -> std::fmt::Result {
    let Some(chart) = Chart::new(a) else {
        h.push_str("<p>No period was evaluated.</p>\n");
        return Ok(());
    };
    let axis = &chart.axis;
    let (lo, hi) = chart.y_range;
    let y = |v: f64| PLOT_H - (v - lo) / (hi - lo) * (PLOT_H - 8.0);
    writeln!(
        h,
        "<svg viewBox=\"0 0 {WIDTH} {}\" role=\"img\" aria-label=\"datapoints and alarm state\">",
        PLOT_H + AXIS_H + 4.0
    )?;
    writeln!(
        h,
        "<title>{} per {} s against the threshold; ALARM periods shaded</title>",
        text(&a.statistic),
        a.period_s
    )?;
    writeln!(h, "<rect x=\"{PLOT_X}\" y=\"0\" width=\"{PLOT_W}\" height=\"{PLOT_H}\" fill=\"#fafbfc\" stroke=\"#d0d7de\"/>")?;
    if !chart.alarm_runs.is_empty() {
        h.push_str("<g fill=\"");
        h.push_str(ALARM_FILL);
        // Crisp edges: a thin run is a solid sliver, not a blur that fades on a long range.
        h.push_str("\" shape-rendering=\"crispEdges\">");
        for &(x0, x1) in &chart.alarm_runs {
            write!(
                h,
                "<rect x=\"{}\" y=\"0\" width=\"{}\" height=\"{PLOT_H}\"/>",
                num(x0),
                num((x1 - x0).max(MIN_RUN_WIDTH))
            )?;
        }
        h.push_str("</g>\n");
    }
    let ty = y(a.threshold);
    writeln!(h, "<line x1=\"{PLOT_X}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{THRESHOLD_STROKE}\" stroke-width=\"1.2\" stroke-dasharray=\"6 4\"/>", PLOT_X + PLOT_W, num(ty), num(ty))?;
    // The y axis: its ends and the threshold (an end too close to the threshold's label is left out).
    if (y(hi) + 10.0 - (ty + 4.0)).abs() > 12.0 {
        write!(
            h,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            PLOT_X - 4.0,
            num(y(hi) + 10.0),
            num(hi)
        )?;
    }
    if (y(lo) - (ty + 4.0)).abs() > 12.0 {
        write!(
            h,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            PLOT_X - 4.0,
            num(y(lo)),
            num(lo)
        )?;
    }
    writeln!(
        h,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" style=\"fill:{THRESHOLD_STROKE}\">{}</text>",
        PLOT_X - 4.0,
        num(ty + 4.0),
        num(a.threshold)
    )?;
    if !chart.marks.is_empty() {
        // A thin stem from the axis's base to each mark's highest datapoint, so that a sparse
        // metric (the usual CloudTrail alarm: a few events a week) shows at a glance.
        write!(
            h,
            "<path fill=\"none\" stroke=\"{STEM_STROKE}\" stroke-width=\"1\" d=\""
        )?;
        for m in &chart.marks {
            write!(h, "M{} {}V{}", num(m.x), num(y(lo)), num(y(m.max)))?;
        }
        h.push_str("\"/>\n");
        // Then a vertical stroke per mark, from the lowest to the highest datapoint it stands
        // for (a dot for one value).
        write!(h, "<path fill=\"none\" stroke=\"{DATA_STROKE}\" stroke-width=\"2.5\" stroke-linecap=\"round\" d=\"")?;
        for m in &chart.marks {
            write!(h, "M{} {}V{}", num(m.x), num(y(m.max)), num(y(m.min)))?;
        }
        h.push_str("\"/>\n");
    }
    time_axis(axis, PLOT_H, h)?;
    h.push_str("</svg>\n");
    writeln!(h,
        "<p class=\"legend\"><span style=\"background:{DATA_STROKE}\"></span>datapoint ({}){}<span style=\"background:{THRESHOLD_STROKE}\"></span>threshold {}<span style=\"background:{ALARM_FILL}\"></span>ALARM</p>",
        text(&a.statistic),
        if chart.downsampled { ", each mark the range of several periods" } else { "" },
        num(a.threshold)
    )
}

/// A timeline reduced to what is drawn.
#[derive(Debug)]
struct Chart {
    axis: Axis,
    y_range: (f64, f64),
    marks: Vec<Mark>,
    /// ALARM runs, in x units.
    alarm_runs: Vec<(f64, f64)>,
    downsampled: bool,
}

#[derive(Debug)]
struct Mark {
    x: f64,
    min: f64,
    max: f64,
}

impl Chart {
    fn new(a: &AlarmResult) -> Option<Chart> {
        let t = &a.timeline;
        let (first, last) = (t.first()?.0, t.last()?.0);
        let period = i64::from(a.period_s.max(1));
        let axis = Axis::new(first.timestamp() as f64, (last.timestamp() + period) as f64);
        let n = t.len();
        let per_mark = n.div_ceil(MAX_MARKS);
        let mut marks = Vec::with_capacity(n.min(MAX_MARKS));
        for chunk in t.chunks(per_mark) {
            let values = chunk.iter().filter_map(|p| p.1).filter(|v| v.is_finite());
            let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            if min <= max {
                let mid = (chunk[0].0.timestamp() + chunk[chunk.len() - 1].0.timestamp() + period)
                    as f64
                    / 2.0;
                marks.push(Mark {
                    x: axis.x(mid),
                    min,
                    max,
                });
            }
        }
        let lo = marks
            .iter()
            .map(|m| m.min)
            .fold(a.threshold.min(0.0), f64::min);
        let hi = marks
            .iter()
            .map(|m| m.max)
            .fold(a.threshold.max(0.0), f64::max);
        let hi = if hi > lo {
            hi + (hi - lo) * 0.08
        } else {
            lo + 1.0
        };
        // Runs of consecutive ALARM periods, exact, then merged below a mark's width.
        let mut runs = Vec::new();
        let mut open: Option<DateTime<Utc>> = None;
        for (start, _, state) in t {
            match (open, *state == AlarmState::Alarm) {
                (None, true) => open = Some(*start),
                (Some(s), false) => {
                    runs.push((
                        axis.x(s.timestamp() as f64),
                        axis.x(start.timestamp() as f64),
                    ));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(s) = open {
            runs.push((
                axis.x(s.timestamp() as f64),
                axis.x((last.timestamp() + period) as f64),
            ));
        }
        let alarm_runs = merge_runs(runs.into_iter(), PLOT_W / MAX_MARKS as f64);
        Some(Chart {
            axis,
            y_range: (lo, hi),
            marks,
            alarm_runs,
            downsampled: per_mark > 1,
        })
    }
}

/// Joins runs (sorted, in x units) whose gap is below `min_gap`: at most PLOT_W / min_gap + 1
/// remain, and every input run lies inside one of them.
fn merge_runs(runs: impl Iterator<Item = (f64, f64)>, min_gap: f64) -> Vec<(f64, f64)> {
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for (x0, x1) in runs {
        match merged.last_mut() {
            Some(last) if x0 - last.1 < min_gap => last.1 = last.1.max(x1),
            _ => merged.push((x0, x1)),
        }
    }
    merged
}

/// Maps a time (Unix seconds) onto the plot's x range.
#[derive(Debug)]
struct Axis {
    start: f64,
    end: f64,
}

impl Axis {
    fn new(start: f64, end: f64) -> Axis {
        Axis {
            start,
            end: if end > start { end } else { start + 1.0 },
        }
    }

    fn x(&self, t: f64) -> f64 {
        PLOT_X + ((t - self.start) / (self.end - self.start)).clamp(0.0, 1.0) * PLOT_W
    }
}

/// Five dated ticks under a plot whose bottom is at `y`.
fn time_axis(axis: &Axis, y: f64, h: &mut String) -> std::fmt::Result {
    let span = axis.end - axis.start;
    let format = if span > 14.0 * 86_400.0 {
        "%Y-%m-%d"
    } else {
        "%Y-%m-%d %H:%M"
    };
    for k in 0..=4 {
        let t = axis.start + span * f64::from(k) / 4.0;
        let x = axis.x(t);
        let anchor = match k {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let label = DateTime::from_timestamp(t as i64, 0)
            .map(|d| d.format(format).to_string())
            .unwrap_or_default();
        write!(
            h,
            "<line x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{}\" stroke=\"#888\"/>",
            num(x),
            num(x),
            y + 4.0
        )?;
        write!(
            h,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\">{label}</text>",
            num(x),
            y + 16.0
        )?;
    }
    h.push('\n');
    Ok(())
}

fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// A number for people and for SVG coordinates: short, never exponent-free giants.
fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    if v != 0.0 && !(1e-3..1e9).contains(&v.abs()) {
        return format!("{v:.3e}");
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn duration(s: u64) -> String {
    match s {
        0..60 => format!("{s} s"),
        60..7200 => format!("{} min", s / 60),
        7200..172_800 => format!("{:.1} h", s as f64 / 3600.0),
        _ => format!("{:.1} days", s as f64 / 86_400.0),
    }
}

/// Evidence text as HTML element content: cut to [`MAX_TEXT`] characters, then escaped. (The
/// five characters HTML gives meaning to; a crate would add nothing to this.)
fn text(s: &str) -> Cow<'_, str> {
    let cut = match s.char_indices().nth(MAX_TEXT) {
        Some((i, _)) => Cow::Owned(format!("{}…", &s[..i])),
        None => Cow::Borrowed(s),
    };
    if !cut.contains(['&', '<', '>', '"', '\'']) {
        return cut;
    }
    let mut e = String::with_capacity(cut.len() + 16);
    for c in cut.chars() {
        match c {
            '&' => e.push_str("&amp;"),
            '<' => e.push_str("&lt;"),
            '>' => e.push_str("&gt;"),
            '"' => e.push_str("&quot;"),
            '\'' => e.push_str("&#39;"),
            c => e.push(c),
        }
    }
    Cow::Owned(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::alarm::SweepPoint;
    use crate::backtest::definitions::FilterDef;
    use crate::backtest::report::{Evidence, RegionSpan, Top};
    use crate::report::json::Span;
    use crate::report::schema::Version;
    use crate::report::Verdict;

    const HOSTILE: &str = "<script>alert(1)</script>";

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    const START: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    fn alarm(
        name: &str,
        period_s: u32,
        timeline: Vec<(DateTime<Utc>, Option<f64>, AlarmState)>,
    ) -> AlarmResult {
        AlarmResult {
            alarm_name: name.into(),
            namespace: "CISBenchmark".into(),
            metric_name: "RootUsage".into(),
            filters: vec![FilterDef {
                log_group: "trail-logs".into(),
                filter_name: "root".into(),
                pattern: "{ $.userIdentity.type = \"Root\" && $.eventType != \"AwsServiceEvent\" }"
                    .into(),
                namespace: "CISBenchmark".into(),
                metric_name: "RootUsage".into(),
                metric_value: "1".into(),
                default_value: None,
            }],
            statistic: "Sum".into(),
            period_s,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            threshold: 1.0,
            comparison: "GreaterThanOrEqualToThreshold".into(),
            treat_missing_data: "missing".into(),
            matched_events: 3,
            breaching_periods: 2,
            alarm_entries: 2,
            time_in_alarm_s: 900,
            entries_per_week: 0.5,
            top: Top {
                eventName: vec![("ConsoleLogin".into(), 2)],
                principal: vec![
                    (HOSTILE.into(), 2),
                    ("arn:aws:iam::111122223333:root".into(), 1),
                ],
                sourceIPAddress: vec![("\"><img src=x onerror=alert(1)>".into(), 1)],
                awsRegion: vec![("us-east-1".into(), 3)],
                errorCode: vec![],
            },
            sweep: vec![
                SweepPoint {
                    threshold: 1.0,
                    alarm_entries: 2,
                },
                SweepPoint {
                    threshold: 5.0,
                    alarm_entries: 0,
                },
            ],
            timeline,
        }
    }

    fn report(alarms: Vec<AlarmResult>, end: i64) -> BacktestReport {
        BacktestReport {
            schema_version: Version,
            trail_arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/main".into(),
            requested: Span {
                start_time: crate::time::display(at(START)),
                end_time: crate::time::display(at(end)),
            },
            evidence: Evidence {
                verdict: Verdict::Invalid,
                log_files_replayed: 10,
                log_files_unverified: 1,
                events_replayed: 100,
                unverified_spans: vec![RegionSpan {
                    account_id: "111122223333".into(),
                    region: "eu-<b>west</b>-1".into(),
                    start_time: crate::time::display(at(START + 3600)),
                    end_time: crate::time::display(at(START + 7200)),
                }],
            },
            alarms,
            filters_without_alarm: vec![],
            not_replayed: vec![],
        }
    }

    /// `periods` periods of `period_s`, a datapoint in every 7th, ALARM where `alarm(i)`.
    fn timeline(
        periods: i64,
        period_s: i64,
        alarm: impl Fn(i64) -> bool,
    ) -> Vec<(DateTime<Utc>, Option<f64>, AlarmState)> {
        (0..periods)
            .map(|i| {
                let state = if alarm(i) {
                    AlarmState::Alarm
                } else {
                    AlarmState::InsufficientData
                };
                (
                    at(START + i * period_s),
                    (i % 7 == 0).then_some((i % 5) as f64),
                    state,
                )
            })
            .collect()
    }

    fn render(r: &BacktestReport) -> String {
        let mut out = Vec::new();
        write_html(r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn small() -> BacktestReport {
        report(
            vec![alarm(
                HOSTILE,
                300,
                timeline(288, 300, |i| (10..13).contains(&i)),
            )],
            START + 86_400,
        )
    }

    #[test]
    fn evidence_text_is_escaped() {
        let page = render(&small());
        assert!(!page.to_lowercase().contains("<script"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<img"));
        assert!(page.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
        assert!(page.contains("eu-&lt;b&gt;west&lt;/b&gt;-1"));
        assert!(!page.contains("<b>west"));
    }

    #[test]
    fn long_evidence_text_is_cut() {
        let long = "A".repeat(100_000);
        let mut r = small();
        r.alarms[0].top.eventName = vec![(long, 1)];
        let page = render(&r);
        assert!(page.len() < 60_000, "{}", page.len());
        assert!(page.contains(&format!("{}…", "A".repeat(MAX_TEXT))));
    }

    #[test]
    fn the_page_is_self_contained() {
        let page = render(&small()).to_lowercase();
        for needle in [
            "http://",
            "https://",
            "<link",
            "url(",
            "@import",
            "javascript:",
            "<script",
            "<iframe",
            "<object",
            "<embed",
            "<img",
        ] {
            assert!(!page.contains(needle), "{needle} in the page");
        }
        // Every tag (escaped text holds no '<'): no attribute loads or links anything, but the
        // summary's links to the alarms' sections.
        let tags: Vec<&str> = page
            .split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap_or(t))
            .collect();
        assert!(tags.len() > 100);
        for tag in tags {
            for attr in [
                "src=",
                "srcset=",
                "xlink:",
                "action=",
                "formaction=",
                "data=",
                "on",
            ] {
                let found = tag
                    .split_whitespace()
                    .skip(1)
                    .any(|a| a.starts_with(attr) && (attr != "on" || a.contains('=')));
                assert!(!found, "<{tag}>");
            }
            if let Some(href) = tag.split("href=\"").nth(1) {
                assert!(href.starts_with("#alarm-"), "<{tag}>");
            }
        }
        // The SVG namespace is implied inline in HTML: not even that URL is written.
        assert!(page.contains("<svg"));
    }

    #[test]
    fn a_year_at_60_s_is_bounded_and_keeps_every_alarm_span() {
        let periods = 525_600;
        // Three lone ALARM periods far apart, and a dense stretch of alternating states.
        let lone = [1_000, 262_000, 525_599];
        let t = timeline(periods, 60, |i| {
            lone.contains(&i) || ((400_000..401_000).contains(&i) && i % 2 == 0)
        });
        let r = report(vec![alarm("year", 60, t)], START + periods * 60);
        let page = render(&r);
        assert!(page.len() < 200_000, "page of {} bytes", page.len());
        let path = page
            .split("stroke-linecap=\"round\" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let marks = path.matches('M').count();
        assert!(marks > 1_000 && marks <= MAX_MARKS, "{marks} marks");
        let chart = Chart::new(&r.alarms[0]).unwrap();
        // Each lone period is its own run; the dense stretch is one.
        assert_eq!(chart.alarm_runs.len(), 4, "{:?}", chart.alarm_runs);
        for &i in &lone {
            let x = chart.axis.x((START + i * 60) as f64);
            assert!(
                chart
                    .alarm_runs
                    .iter()
                    .any(|&(x0, x1)| x0 <= x && x <= x1.max(x0 + MIN_RUN_WIDTH)),
                "period {i} at {x}"
            );
        }
        let shaded = page
            .split(&format!("<g fill=\"{ALARM_FILL}\" shape-rendering=\"crispEdges\">"))
            .nth(1)
            .unwrap()
            .split("</g>")
            .next()
            .unwrap();
        assert_eq!(shaded.matches("<rect").count(), 4);
        assert!(chart.downsampled);
    }

    #[test]
    fn alternating_states_for_a_year_stay_bounded() {
        let periods = 525_600;
        let r = report(
            vec![alarm("flapping", 60, timeline(periods, 60, |i| i % 2 == 0))],
            START + periods * 60,
        );
        let chart = Chart::new(&r.alarms[0]).unwrap();
        assert!(
            chart.alarm_runs.len() <= MAX_MARKS + 1,
            "{}",
            chart.alarm_runs.len()
        );
        assert!(render(&r).len() < 200_000);
    }

    #[test]
    fn a_short_timeline_draws_every_datapoint() {
        let r = small();
        let chart = Chart::new(&r.alarms[0]).unwrap();
        assert_eq!(chart.marks.len(), 288usize.div_ceil(7));
        assert!(!chart.downsampled);
        assert_eq!(chart.alarm_runs.len(), 1);
    }

    #[test]
    fn a_report_without_alarms_renders() {
        let mut r = report(vec![], START + 86_400);
        r.evidence.unverified_spans.clear();
        r.evidence.verdict = Verdict::Valid;
        let page = render(&r);
        assert!(page.contains("No alarm was replayed."));
        assert!(page.contains("Every log file of the range verified"));
        assert!(page.trim_end().ends_with("</html>"));
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(2.5), "2.5");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(1e300), "1.000e300");
        assert_eq!(num(f64::NAN), "0");
    }
}
