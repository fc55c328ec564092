//! The results table, as aligned text for the terminal or as Markdown.

use std::fmt::Write;
use std::time::Duration;

use super::load::Measurement;

/// One line of the results: a measurement, or why there is none.
pub(super) struct Row {
    pub(super) backend: &'static str,
    pub(super) outcome: Outcome,
}

pub(super) enum Outcome {
    Measured(Measurement),
    /// Not measured; the command said why when it skipped the backend.
    Skipped {
        scenario: &'static str,
    },
}

const HEADERS: [&str; 12] = [
    "backend",
    "scenario",
    "req/s",
    "records/s",
    "p50 ms",
    "p99 ms",
    "max ms",
    "errors",
    "server CPU",
    "client CPU",
    "db CPU",
    "other CPU",
];

/// The table as text, its columns padded to line up; `markdown` makes it a
/// Markdown table instead.
pub(super) fn table(rows: &[Row], markdown: bool) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(cells).collect();
    let mut widths: Vec<usize> = HEADERS.iter().map(|header| header.len()).collect();
    for line in &cells {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.len());
        }
    }

    let headers: Vec<String> = HEADERS.iter().map(|&header| header.to_owned()).collect();
    let mut out = String::new();
    write_line(&mut out, &headers, &widths, markdown);
    if markdown {
        let rule: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(column, width)| {
                let dashes = "-".repeat(width.saturating_sub(1));
                if column < 2 {
                    format!("{dashes}-")
                } else {
                    format!("{dashes}:")
                }
            })
            .collect();
        write_line(&mut out, &rule, &widths, markdown);
    }
    for line in &cells {
        write_line(&mut out, line, &widths, markdown);
    }
    out
}

/// Each error description with its count, one per line, under its row's
/// backend and scenario.
pub(super) fn errors(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows {
        let Outcome::Measured(measurement) = &row.outcome else {
            continue;
        };
        for (kind, count) in &measurement.error_kinds {
            let scenario = measurement.scenario.label();
            let _ = writeln!(out, "  {} / {scenario}: {count} × {kind}", row.backend);
        }
    }
    out
}

fn cells(row: &Row) -> Vec<String> {
    let measurement = match &row.outcome {
        Outcome::Measured(measurement) => measurement,
        Outcome::Skipped { scenario } => {
            let mut line = vec![row.backend.to_owned(), (*scenario).to_owned()];
            line.push("skipped".to_owned());
            line.resize(HEADERS.len(), "-".to_owned());
            return line;
        }
    };
    let rate = measurement.rate();
    let records = measurement
        .scenario
        .records_per_request()
        .map_or_else(|| "-".to_owned(), |per| thousands(rate * per as f64));
    vec![
        row.backend.to_owned(),
        measurement.scenario.label().to_owned(),
        thousands(rate),
        records,
        millis(measurement.percentile(0.50)),
        millis(measurement.percentile(0.99)),
        millis(measurement.max_latency()),
        measurement.errors.to_string(),
        percent(measurement.cpu.server),
        percent(measurement.cpu.driver),
        measurement
            .cpu
            .database
            .map_or_else(|| "-".to_owned(), percent),
        percent(measurement.cpu.other),
    ]
}

/// Text columns are left-aligned, numbers right-aligned.
fn write_line(out: &mut String, cells: &[String], widths: &[usize], markdown: bool) {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(column, (cell, &width))| {
            if column < 2 {
                format!("{cell:<width$}")
            } else {
                format!("{cell:>width$}")
            }
        })
        .collect();
    if markdown {
        let _ = writeln!(out, "| {} |", padded.join(" | "));
    } else {
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    }
}

/// `12345.6` as `12,346`.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn millis(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

/// A share of one core as a percentage.
fn percent(cores: f64) -> String {
    format!("{:.0}%", cores * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits_by_three() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1_234_567.8), "1,234,568");
    }

    #[test]
    fn millis_keeps_two_decimals() {
        assert_eq!(millis(Duration::from_micros(4_567)), "4.57");
    }
}
