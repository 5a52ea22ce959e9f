//! Turning samples into figures: percentiles, fidelity (PSNR, SSIM), the
//! side-by-side table and its SVG chart.

/// The value at quantile `q` (nearest rank); `None` without values.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let at = ((v.len() - 1) as f64 * q).round() as usize;
    v.get(at).copied()
}

pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// PSNR in dB of `b` against `a` (8-bit grey); infinite when equal.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let n = a.len().min(b.len()).max(1);
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum::<f64>()
        / n as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

/// The `width`×`height` window of `shown` (which has `margin` extra pixels
/// on every side) that is closest to `original` (least squared error):
/// a picture drawn a few pixels off is compared where it is.
pub fn best_aligned(
    original: &[u8],
    shown: &[u8],
    width: usize,
    height: usize,
    margin: usize,
) -> Vec<u8> {
    let stride = width + 2 * margin;
    if shown.len() < stride * (height + 2 * margin) || original.len() < width * height {
        return Vec::new();
    }
    let mut best = (u64::MAX, margin, margin);
    for dy in 0..=2 * margin {
        for dx in 0..=2 * margin {
            // Every fourth row is enough to find the offset.
            let error: u64 = (0..height)
                .step_by(4)
                .map(|y| {
                    let row = &shown[(y + dy) * stride + dx..][..width];
                    let source = &original[y * width..][..width];
                    row.iter()
                        .zip(source)
                        .map(|(a, b)| u64::from(a.abs_diff(*b)).pow(2))
                        .sum::<u64>()
                })
                .sum();
            if error < best.0 {
                best = (error, dx, dy);
            }
        }
    }
    let (dx, dy) = (best.1, best.2);
    (0..height)
        .flat_map(|y| shown[(y + dy) * stride + dx..][..width].iter().copied())
        .collect()
}

/// Mean SSIM over 8×8 windows (stride 4) of two `width`-wide grey images.
pub fn ssim(a: &[u8], b: &[u8], width: usize) -> f64 {
    const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
    const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);
    let height = a.len().min(b.len()) / width.max(1);
    let mut total = 0.0;
    let mut count = 0usize;
    for y in (0..height.saturating_sub(8)).step_by(4) {
        for x in (0..width.saturating_sub(8)).step_by(4) {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for dy in 0..8 {
                for dx in 0..8 {
                    let i = (y + dy) * width + x + dx;
                    let (p, q) = (f64::from(a[i]), f64::from(b[i]));
                    sa += p;
                    sb += q;
                    saa += p * p;
                    sbb += q * q;
                    sab += p * q;
                }
            }
            let n = 64.0;
            let (ma, mb) = (sa / n, sb / n);
            let (va, vb, cov) = (saa / n - ma * ma, sbb / n - mb * mb, sab / n - ma * mb);
            total += ((2.0 * ma * mb + C1) * (2.0 * cov + C2))
                / ((ma * ma + mb * mb + C1) * (va + vb + C2));
            count += 1;
        }
    }
    if count == 0 {
        0.0
    } else {
        total / count as f64
    }
}

/// One system's figures for one phase of one run.
#[derive(Debug, Clone, Default)]
pub struct PhaseFigures {
    pub latency: Vec<f64>,
    /// The part of `latency` the system adds: shown − when the value first
    /// reached the X framebuffer.
    pub added: Vec<f64>,
    /// Glass-to-glass of the clock drawn inside the moving region
    /// (`scroll` and `motion` only): how late the moving content is,
    /// where the clock cells alone may go a faster way.
    pub moving: Vec<f64>,
    pub moving_per_second: f64,
    pub frames_per_second: f64,
    pub kbit_per_second: f64,
    pub sender_cpu_s: f64,
    pub browser_cpu_s: f64,
}

/// One run of one system.
#[derive(Debug, Clone, Default)]
pub struct RunFigures {
    pub phases: Vec<(String, PhaseFigures)>,
    pub key_to_x: Vec<f64>,
    pub sender_rss_mib: f64,
    pub browser_rss_mib: f64,
    pub psnr_db: Option<f64>,
    pub ssim: Option<f64>,
}

/// Everything measured of one system, or why it could not run.
#[derive(Debug, Clone)]
pub struct SystemFigures {
    pub name: String,
    pub runs: Vec<RunFigures>,
    pub failed: Option<String>,
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.digits$}"))
}

impl SystemFigures {
    /// The median over runs of `pick` in phase `phase`.
    pub fn phase_median(
        &self,
        phase: &str,
        pick: impl Fn(&PhaseFigures) -> Option<f64>,
    ) -> Option<f64> {
        let values: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|r| r.phases.iter().find(|(p, _)| p == phase))
            .filter_map(|(_, f)| pick(f))
            .collect();
        median(&values)
    }

    pub fn run_median(&self, pick: impl Fn(&RunFigures) -> Option<f64>) -> Option<f64> {
        let values: Vec<f64> = self.runs.iter().filter_map(pick).collect();
        median(&values)
    }
}

/// The side-by-side table as Markdown, with ratios against the first
/// system (Tandem).
pub fn table(systems: &[SystemFigures], phases: &[&str]) -> String {
    let mut out = String::new();
    out.push_str("| system | phase | g2g p50 ms | p95 | p99 | added p50 ms | added p95 | frames/s | kbit/s | sender CPU s | browser CPU s | p50 ÷ Tandem | p95 ÷ Tandem | kbit/s ÷ Tandem |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    let base = systems.first();
    for s in systems {
        if let Some(why) = &s.failed {
            out.push_str(&format!(
                "| {} | – | did not run: {why} ||||||||||||\n",
                s.name
            ));
            continue;
        }
        for phase in phases {
            let q = |q: f64| s.phase_median(phase, |f| quantile(&f.latency, q));
            let p50 = q(0.5);
            let kbit = s.phase_median(phase, |f| Some(f.kbit_per_second));
            let ratio = |mine: Option<f64>, theirs: Option<f64>| match (mine, theirs) {
                (Some(m), Some(t)) if t > 0.0 => format!("{:.2}", m / t),
                _ => "–".into(),
            };
            let base_p50 = base.and_then(|b| b.phase_median(phase, |f| quantile(&f.latency, 0.5)));
            let base_kbit = base.and_then(|b| b.phase_median(phase, |f| Some(f.kbit_per_second)));
            let base_p95 = base.and_then(|b| b.phase_median(phase, |f| quantile(&f.latency, 0.95)));
            let added = |q: f64| s.phase_median(phase, |f| quantile(&f.added, q));
            out.push_str(&format!(
                "| {} | {phase} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                s.name,
                fmt(p50, 1),
                fmt(q(0.95), 1),
                fmt(q(0.99), 1),
                fmt(added(0.5), 1),
                fmt(added(0.95), 1),
                fmt(s.phase_median(phase, |f| Some(f.frames_per_second)), 1),
                fmt(kbit, 0),
                fmt(s.phase_median(phase, |f| Some(f.sender_cpu_s)), 2),
                fmt(s.phase_median(phase, |f| Some(f.browser_cpu_s)), 2),
                ratio(p50, base_p50),
                ratio(q(0.95), base_p95),
                ratio(kbit, base_kbit),
            ));
        }
    }
    out.push_str("\n| system | phase | moving region g2g p50 ms | p95 | p99 | values/s | p50 ÷ Tandem | p95 ÷ Tandem |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for s in systems.iter().filter(|s| s.failed.is_none()) {
        for phase in phases.iter().filter(|p| matches!(**p, "scroll" | "motion")) {
            let q = |s: &SystemFigures, q: f64| s.phase_median(phase, |f| quantile(&f.moving, q));
            let ratio = |q_: f64| match (q(s, q_), base.and_then(|b| q(b, q_))) {
                (Some(m), Some(t)) if t > 0.0 => format!("{:.2}", m / t),
                _ => "–".into(),
            };
            let rate = s.phase_median(phase, |f| Some(f.moving_per_second));
            out.push_str(&format!(
                "| {} | {phase} | {} | {} | {} | {} | {} | {} |\n",
                s.name,
                fmt(q(s, 0.5), 1),
                fmt(q(s, 0.95), 1),
                fmt(q(s, 0.99), 1),
                fmt(rate, 1),
                ratio(0.5),
                ratio(0.95),
            ));
        }
    }
    out.push_str("\n| system | key → X p50 ms | p95 | sender RSS MiB | browser RSS MiB | text PSNR dB | text SSIM |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for s in systems.iter().filter(|s| s.failed.is_none()) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            s.name,
            fmt(s.run_median(|r| quantile(&r.key_to_x, 0.5)), 1),
            fmt(s.run_median(|r| quantile(&r.key_to_x, 0.95)), 1),
            fmt(s.run_median(|r| Some(r.sender_rss_mib)), 0),
            fmt(s.run_median(|r| Some(r.browser_rss_mib)), 0),
            fmt(s.run_median(|r| r.psnr_db.map(|p| p.min(99.0))), 1),
            fmt(s.run_median(|r| r.ssim), 3),
        ));
    }
    out
}

/// Grouped bars of glass-to-glass p50 per phase, one colour per system.
pub fn chart(systems: &[SystemFigures], phases: &[&str]) -> String {
    const COLOURS: [&str; 3] = ["#2f6fde", "#d9822b", "#3a9d5d"];
    let ran: Vec<&SystemFigures> = systems.iter().filter(|s| s.failed.is_none()).collect();
    let values: Vec<Vec<f64>> = ran
        .iter()
        .map(|s| {
            phases
                .iter()
                .map(|p| {
                    s.phase_median(p, |f| quantile(&f.latency, 0.5))
                        .unwrap_or(0.0)
                })
                .collect()
        })
        .collect();
    let max = values.iter().flatten().copied().fold(10.0f64, f64::max);
    let top = (max / 20.0).ceil() * 20.0;
    let (w, h, left, bottom, top_pad) = (760.0, 320.0, 50.0, 50.0, 30.0);
    let plot_h = h - bottom - top_pad;
    let group = (w - left - 10.0) / phases.len().max(1) as f64;
    let bar = group * 0.8 / ran.len().max(1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"t\">\
         <title id=\"t\">Glass-to-glass latency, median of runs, p50 per phase (ms)</title>\
         <style>text{{font:12px sans-serif}}</style>\
         <text x=\"{left}\" y=\"18\">Glass-to-glass p50 (ms), lower is better</text>"
    );
    for i in 0..=4 {
        let v = top / 4.0 * i as f64;
        let y = h - bottom - plot_h * v / top;
        svg.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v:.0}</text>",
            w - 10.0,
            left - 6.0,
            y + 4.0
        ));
    }
    for (pi, phase) in phases.iter().enumerate() {
        let gx = left + group * pi as f64 + group * 0.1;
        for (si, s) in ran.iter().enumerate() {
            let v = values[si][pi];
            let bh = plot_h * v / top;
            let x = gx + bar * si as f64;
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{} {phase}: {v:.1} ms</title></rect>",
                h - bottom - bh,
                bar * 0.9,
                COLOURS[si % COLOURS.len()],
                s.name
            ));
        }
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{phase}</text>",
            gx + group * 0.4,
            h - bottom + 16.0
        ));
    }
    for (si, s) in ran.iter().enumerate() {
        let x = left + 160.0 * si as f64;
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            h - 20.0,
            COLOURS[si % COLOURS.len()],
            x + 16.0,
            h - 10.0,
            s.name
        ));
    }
    svg.push_str("</svg>\n");
    svg
}

/// Glass-to-glass of a clock value (`stamp`, ms mod 2²⁴) shown at `t`
/// (ms since the epoch); `None` past 5 s (a misread).
pub fn glass_to_glass(t: f64, stamp: f64) -> Option<f64> {
    let now = (t as u64) & 0xFF_FFFF;
    let d = (now + 0x100_0000 - (stamp as u64)) & 0xFF_FFFF;
    (d < 5_000).then_some(d as f64)
}
