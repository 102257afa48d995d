//! What a scenario reports: figures, each beside its baseline and target, as a table or JSON.

use serde::Serialize;

use crate::stats::{ms, Latencies};

/// One scenario's results.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// The scenario's name, as on the command line.
    pub(crate) scenario: String,
    /// The scenario's parameters, as text (members, rate, ...).
    pub(crate) parameters: Vec<(String, String)>,
    /// The relay loaded: its URL, and whether this program started it.
    pub(crate) relay: String,
    /// Every figure, in the order printed.
    pub(crate) figures: Vec<Figure>,
    /// Delivery latency samples, for the plot only.
    #[serde(skip)]
    pub(crate) latencies: Latencies,
}

/// One figure, with what it is held against.
#[derive(Debug, Serialize)]
pub(crate) struct Figure {
    /// What was measured.
    pub(crate) name: String,
    /// Its value.
    pub(crate) value: f64,
    /// Its unit.
    pub(crate) unit: String,
    /// The baseline measured in the same run, if this figure has one.
    pub(crate) baseline: Option<Baseline>,
    /// value / baseline.
    pub(crate) ratio: Option<f64>,
    /// The target, in words ("<= 1.5x", "< 10 ms").
    pub(crate) target: Option<String>,
    /// Whether the target is met.
    pub(crate) met: Option<bool>,
}

/// A baseline figure.
#[derive(Debug, Serialize)]
pub(crate) struct Baseline {
    /// What the baseline is.
    pub(crate) name: String,
    /// Its value, in the figure's unit.
    pub(crate) value: f64,
}

impl Figure {
    /// A figure without baseline or target.
    pub(crate) fn plain(name: impl Into<String>, value: f64, unit: &str) -> Figure {
        Figure {
            name: name.into(),
            value,
            unit: unit.to_owned(),
            baseline: None,
            ratio: None,
            target: None,
            met: None,
        }
    }

    /// Sets the baseline and the ratio value / baseline.
    pub(crate) fn against(mut self, name: impl Into<String>, value: f64) -> Figure {
        self.ratio = (value != 0.0).then(|| self.value / value);
        self.baseline = Some(Baseline {
            name: name.into(),
            value,
        });
        self
    }

    /// Sets the target, and whether it is met.
    pub(crate) fn target(mut self, words: impl Into<String>, met: bool) -> Figure {
        self.target = Some(words.into());
        self.met = Some(met);
        self
    }
}

impl Report {
    /// A report with no figures yet.
    pub(crate) fn new(scenario: &str, relay: String) -> Report {
        Report {
            scenario: scenario.to_owned(),
            parameters: Vec::new(),
            relay,
            figures: Vec::new(),
            latencies: Latencies::default(),
        }
    }

    /// Adds a parameter.
    pub(crate) fn parameter(&mut self, name: &str, value: impl ToString) {
        self.parameters.push((name.to_owned(), value.to_string()));
    }

    /// Adds a figure.
    pub(crate) fn push(&mut self, figure: Figure) {
        self.figures.push(figure);
    }

    /// Adds p50, p95 and p99 of `latencies` as figures named `what p50` and so on, and
    /// keeps the samples for the plot.
    pub(crate) fn latency(&mut self, what: &str, latencies: &Latencies) {
        for (label, q) in [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)] {
            self.push(Figure::plain(
                format!("{what} {label}"),
                ms(latencies.quantile(q)),
                "ms",
            ));
        }
    }

    /// The report as a table.
    pub(crate) fn table(&self) -> String {
        let mut out = format!("scenario: {}   relay: {}\n", self.scenario, self.relay);
        if !self.parameters.is_empty() {
            let words: Vec<String> = self
                .parameters
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            out.push_str(&format!("parameters: {}\n", words.join(" ")));
        }
        let rows: Vec<[String; 6]> = self
            .figures
            .iter()
            .map(|f| {
                [
                    f.name.clone(),
                    format!("{} {}", number(f.value), f.unit),
                    f.baseline
                        .as_ref()
                        .map(|b| format!("{} {} ({})", number(b.value), f.unit, b.name))
                        .unwrap_or_default(),
                    f.ratio.map(|r| format!("{r:.2}x")).unwrap_or_default(),
                    f.target.clone().unwrap_or_default(),
                    match f.met {
                        Some(true) => "met".to_owned(),
                        Some(false) => "NOT MET".to_owned(),
                        None => String::new(),
                    },
                ]
            })
            .collect();
        let header = [
            "figure",
            "value",
            "baseline (same run)",
            "ratio",
            "target",
            "",
        ];
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in std::iter::once(header.map(str::to_owned)).chain(rows) {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

/// A number with as many decimals as its size deserves.
fn number(value: f64) -> String {
    match value.abs() {
        v if v >= 1000.0 => format!("{value:.0}"),
        v if v >= 10.0 => format!("{value:.1}"),
        _ => format!("{value:.3}"),
    }
}
