//! Latency plots: an SVG with latency over time above the cumulative distribution, so a
//! reader sees both when latency spiked and how often.
//!
//! SVG only, without plotters' font support: the SVG backend writes text as `<text>`
//! elements for the viewer to lay out, so no font files are needed.

use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;

/// Width and height of the whole image, in pixels.
const SIZE: (u32, u32) = (1000, 800);

/// The most points the distribution's line is drawn through: beyond that the SVG grows with
/// no visible difference.
const CDF_POINTS: usize = 2000;

/// Writes an SVG at `path` of latency samples, each `(seconds since start, latency in ms)`:
/// on top, latency over time as a scatter; below, the fraction of samples at or below each
/// latency. Samples with a non-finite coordinate are left out; with none left, both charts
/// are drawn empty and the title says so.
pub(crate) fn latency_svg(path: &Path, title: &str, points: &[(f64, f64)]) -> anyhow::Result<()> {
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let mut latencies: Vec<f64> = points.iter().map(|&(_, y)| y).collect();
    latencies.sort_by(f64::total_cmp);
    let title = if points.is_empty() {
        format!("{title} (no samples)")
    } else if points.len() == 1 {
        format!("{title} (1 sample)")
    } else {
        format!("{title} ({} samples)", points.len())
    };

    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(&title, ("sans-serif", 24))?;
    let (top, bottom) = root.split_vertically(SIZE.1 / 2 - 20);

    let seconds = span(points.iter().map(|&(x, _)| x));
    let millis = span(latencies.iter().copied());

    let mut over_time = ChartBuilder::on(&top)
        .caption("latency over time", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(seconds, millis.clone())?;
    over_time
        .configure_mesh()
        .x_desc("seconds since start")
        .y_desc("latency (ms)")
        .draw()?;
    over_time.draw_series(
        points
            .iter()
            .map(|&(x, y)| Circle::new((x, y), 2, BLUE.mix(0.5).filled())),
    )?;

    let mut distribution = ChartBuilder::on(&bottom)
        .caption("cumulative distribution", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(millis, 0f64..1f64)?;
    distribution
        .configure_mesh()
        .x_desc("latency (ms)")
        .y_desc("fraction of samples at or below")
        .draw()?;
    distribution.draw_series(LineSeries::new(cdf(&latencies), RED.stroke_width(2)))?;

    root.present()?;
    Ok(())
}

/// The smallest range from 0 (or below, for negative values) holding every value, widened
/// so it is never empty: plotters needs a non-empty range for its axes.
fn span(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (low, high) = values.fold((0f64, 0f64), |(low, high), v| (low.min(v), high.max(v)));
    let width = high - low;
    if width > 0.0 {
        // A margin above, so the highest point is not drawn on the frame.
        low..high + width * 0.05
    } else {
        low..low + 1.0
    }
}

/// The cumulative distribution of sorted `latencies` as the points of a line: from 0 at the
/// smallest value up to 1 at the largest, thinned to about [`CDF_POINTS`] points.
fn cdf(latencies: &[f64]) -> Vec<(f64, f64)> {
    let n = latencies.len();
    let Some(&first) = latencies.first() else {
        return Vec::new();
    };
    let step = n.div_ceil(CDF_POINTS).max(1);
    let mut line = Vec::with_capacity(n / step + 2);
    line.push((first, 0.0));
    // Every step-th sample, and always the last, which reaches 1.
    for i in (step - 1..n).step_by(step).chain(std::iter::once(n - 1)) {
        line.push((latencies[i], (i + 1) as f64 / n as f64));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_reaches_one_and_never_falls() {
        let values: Vec<f64> = (0..10_000).map(f64::from).collect();
        let line = cdf(&values);
        assert!(line.len() <= CDF_POINTS + 2);
        assert_eq!(line.last().map(|&(_, y)| y), Some(1.0));
        assert!(line.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn empty_and_single_point_plots() {
        let dir = tempfile::tempdir().unwrap();
        for (name, points) in [("empty", vec![]), ("one", vec![(0.0, 3.0)])] {
            let path = dir.path().join(format!("{name}.svg"));
            latency_svg(&path, name, &points).unwrap();
            let svg = std::fs::read_to_string(&path).unwrap();
            assert!(svg.contains("<svg"));
        }
    }
}
