//! Bar charts as inline SVG for the quarterly review: horizontal bars, so that labels of any
//! length and any number of bars never overlap; a labelled value axis; each bar's figure
//! written at its end, and "—" where there is no figure. The chart is a picture of the table
//! printed beside it (`role="img"` with the title as its name).

/// One bar: its label, its value (`None`: no figure), and the value as people read it.
pub struct Bar {
    /// E.g. "P1 response" or "Week of 5 Oct".
    pub label: String,
    /// The length; `None` draws no bar and writes "—".
    pub value: Option<f64>,
    /// The figure written after the bar, e.g. "96.5 %".
    pub shown: String,
}

/// Pixels per character of the labels' font (10 px system sans: a generous average).
const CHAR: f64 = 6.2;
const ROW: f64 = 22.0;
const BAR: f64 = 14.0;
const PLOT: f64 = 320.0;
const FIGURE: f64 = 64.0;
const AXIS: f64 = 30.0;
const PAD: f64 = 8.0;

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Ticks for an axis from 0 to `max`: 0 and four or five round steps (1, 2, 2.5 or 5 × 10ⁿ);
/// whole steps only when `whole` (counts of things).
pub fn ticks(max: f64, whole: bool) -> Vec<f64> {
    if max <= 0.0 || !max.is_finite() {
        return vec![0.0, 1.0];
    }
    let rough = max / 4.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= rough).unwrap_or(magnitude);
    let step = if whole { step.ceil() } else { step };
    let count = (max / step).ceil() as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.1}") }
}

/// A horizontal bar chart titled `title`, its axis from 0 to `max` (rounded up to a tick)
/// in `unit`; whole-numbered ticks when every value is whole.
pub fn horizontal(title: &str, bars: &[Bar], max: f64, unit: &str) -> String {
    let whole = bars.iter().filter_map(|b| b.value).all(|v| v.fract() == 0.0);
    let ticks = ticks(max, whole);
    let top = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    let longest = bars.iter().map(|b| b.label.chars().count()).max().unwrap_or(0) as f64;
    let left = (longest * CHAR + PAD).clamp(60.0, 260.0);
    let width = left + PLOT + FIGURE;
    let height = bars.len() as f64 * ROW + AXIS;
    let mut out = format!(
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = esc(title),
    );
    let axis_y = bars.len() as f64 * ROW;
    for tick in &ticks {
        let x = left + tick / top * PLOT;
        out.push_str(&format!(
            r#"<line class="grid" x1="{x:.1}" y1="0" x2="{x:.1}" y2="{axis_y:.1}"/><text class="tick" x="{x:.1}" y="{y:.1}" text-anchor="middle">{n}</text>"#,
            n = number(*tick),
            y = axis_y + 14.0,
        ));
    }
    out.push_str(&format!(
        r#"<text class="unit" x="{x:.1}" y="{y:.1}" text-anchor="middle">{u}</text>"#,
        x = left + PLOT / 2.0,
        y = axis_y + 27.0,
        u = esc(unit.trim()),
    ));
    for (i, bar) in bars.iter().enumerate() {
        let y = i as f64 * ROW;
        let middle = y + ROW / 2.0 + 3.5;
        out.push_str(&format!(
            r#"<text class="label" x="{x:.1}" y="{middle:.1}" text-anchor="end">{l}</text>"#,
            x = left - PAD,
            l = esc(&bar.label),
        ));
        let length = bar.value.map(|v| (v / top).clamp(0.0, 1.0) * PLOT).unwrap_or(0.0);
        if bar.value.is_some() {
            out.push_str(&format!(
                r#"<rect x="{left:.1}" y="{by:.1}" width="{length:.1}" height="{BAR}"><title>{l}: {s}</title></rect>"#,
                by = y + (ROW - BAR) / 2.0,
                l = esc(&bar.label),
                s = esc(&bar.shown),
            ));
        }
        let shown = if bar.value.is_some() { esc(&bar.shown) } else { "—".to_string() };
        out.push_str(&format!(
            r#"<text class="figure" x="{x:.1}" y="{middle:.1}">{shown}</text>"#,
            x = left + length + 4.0,
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(ticks(100.0, false), [0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(ticks(7.0, true), [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(ticks(0.0, true), [0.0, 1.0]);
        assert_eq!(ticks(1.0, false), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(ticks(2.0, true), [0.0, 1.0, 2.0], "counts have whole ticks");
        for max in [3.0, 13.0, 99.0, 1234.0] {
            let t = ticks(max, false);
            assert!(*t.last().unwrap() >= max && t.len() <= 6, "{max}: {t:?}");
        }
    }

    #[test]
    fn labels_never_overlap_and_missing_figures_read_as_a_dash() {
        let bars: Vec<Bar> = (0..13)
            .map(|i| Bar {
                label: format!("Week of {} Oct", i + 1),
                value: (i != 3).then_some(f64::from(i)),
                shown: format!("{i} tickets"),
            })
            .collect();
        let svg = horizontal("Tickets <by> week", &bars, 12.0, "tickets");
        // Each label on its own row: the rows' y positions strictly increase by a full row.
        let ys: Vec<f64> = svg
            .split(r#"<text class="label" "#)
            .skip(1)
            .map(|s| s.split("y=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ys.len(), 13);
        assert!(ys.windows(2).all(|w| w[1] - w[0] >= ROW), "{ys:?}");
        assert_eq!(svg.matches("<rect").count(), 12, "no bar where there is no figure");
        assert!(svg.contains(r#"<text class="figure" x="#) && svg.contains(">—</text>"));
        assert!(svg.contains("Tickets &lt;by&gt; week") && !svg.contains("<by>"));
        // Bars are scaled to the top tick (15 for a maximum of 12).
        assert!(svg.contains(r#"width="256.0" height="14"><title>Week of 13 Oct: 12 tickets</title>"#), "{svg}");
    }
}
