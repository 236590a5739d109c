//! JUnit XML, as Jenkins, GitLab and GitHub test reporters read it: one testsuite, one testcase
//! per case. fail → `<failure>`, error → `<error>`, skipped → `<skipped>`; a warning passes, with
//! its message in `<system-out>`.
use std::io::{self, Write};

use super::cases::{Case, Outcome};

pub fn write(suite: &str, cases: &[Case<'_>], out: &mut dyn Write) -> io::Result<()> {
    let count = |o: Outcome| cases.iter().filter(|c| c.outcome == o).count();
    let (failures, errors, skipped) = (count(Outcome::Fail), count(Outcome::Error), count(Outcome::Skipped));
    let totals = format!(r#"tests="{}" failures="{failures}" errors="{errors}" skipped="{skipped}""#, cases.len());
    let suite = escape(suite);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="trailproof {suite}" {totals}>"#)?;
    writeln!(out, r#"  <testsuite name="{suite}" {totals}>"#)?;
    for c in cases {
        let head = format!(r#"    <testcase classname="{suite}" name="{}""#, escape(&c.name));
        let detail = format!("{}\nresource: {}\nevidence: {}\nremediation: {}", c.rule.title, c.location, c.message, c.rule.remediation);
        let body = |tag: &str| format!("      <{tag} message=\"{}\">{}</{tag}>", escape(&c.message), escape(&detail));
        match c.outcome {
            Outcome::Pass => writeln!(out, "{head}/>")?,
            Outcome::Warning => writeln!(out, "{head}>\n      <system-out>{}</system-out>\n    </testcase>", escape(&detail))?,
            Outcome::Fail => writeln!(out, "{head}>\n{}\n    </testcase>", body("failure"))?,
            Outcome::Error => writeln!(out, "{head}>\n{}\n    </testcase>", body("error"))?,
            Outcome::Skipped => writeln!(out, "{head}>\n      <skipped message=\"{}\"/>\n    </testcase>", escape(&c.message))?,
        }
    }
    writeln!(out, "  </testsuite>\n</testsuites>")
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
