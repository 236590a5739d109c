//! JUnit XML, as Jenkins, GitLab and GitHub test reporters read it (the common schema:
//! `testsuites > testsuite(name, tests, failures, errors, skipped) > testcase(name, classname)`),
//! one testsuite per [`Suite`]. fail → `<failure type="KIND" message=…>`, error (could not be
//! checked) → `<error type="KIND" message=…>`, skipped (waived) → `<skipped message=…>`; a warning
//! passes, with its message in `<system-out>`.
use std::io::{self, Write};

use super::cases::{Case, Outcome, Suite};

struct Totals {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Totals {
    fn of<'a>(cases: impl Iterator<Item = &'a Case<'a>>) -> Totals {
        let mut t = Totals { tests: 0, failures: 0, errors: 0, skipped: 0 };
        for c in cases {
            t.tests += 1;
            match c.outcome {
                Outcome::Fail => t.failures += 1,
                Outcome::Error => t.errors += 1,
                Outcome::Skipped => t.skipped += 1,
                Outcome::Pass | Outcome::Warning => {}
            }
        }
        t
    }
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, r#"tests="{}" failures="{}" errors="{}" skipped="{}""#, self.tests, self.failures, self.errors, self.skipped)
    }
}

/// Writes the suites of one command (`title`: validate-logs, or the baseline's name).
pub fn write(title: &str, suites: &[Suite<'_>], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="trailproof {}" {}>"#, attr(title), Totals::of(suites.iter().flat_map(|s| &s.cases)))?;
    for suite in suites {
        let name = attr(&suite.name);
        writeln!(out, r#"  <testsuite name="{name}" {}>"#, Totals::of(suite.cases.iter()))?;
        for c in &suite.cases {
            let head = format!(r#"    <testcase classname="{name}" name="{}""#, attr(&c.name));
            let detail = format!("{}\nlocation: {}\nevidence: {}\nremediation: {}", c.rule.title, c.location, c.message, c.rule.remediation);
            let body = |tag: &str| format!("      <{tag} type=\"{}\" message=\"{}\">{}</{tag}>", attr(&c.rule.id), attr(&c.message), escape(&detail));
            match c.outcome {
                Outcome::Pass => writeln!(out, "{head}/>")?,
                Outcome::Warning => writeln!(out, "{head}>\n      <system-out>{}</system-out>\n    </testcase>", escape(&detail))?,
                Outcome::Fail => writeln!(out, "{head}>\n{}\n    </testcase>", body("failure"))?,
                Outcome::Error => writeln!(out, "{head}>\n{}\n    </testcase>", body("error"))?,
                Outcome::Skipped => writeln!(out, "{head}>\n      <skipped message=\"{}\"/>\n    </testcase>", attr(&c.message))?,
            }
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

/// An attribute value: a line break would be read back as a space.
fn attr(s: &str) -> String {
    escape(s).replace('\n', "&#10;")
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
