//! Output: human text, JSON with the catalogue ids, and a self-contained HTML page with charts
//! (inline SVG, no script, no network).

use crate::classify::Diagnosis;
use crate::logs::{Group, Summary};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// Text for one diagnosis; `fix` gives the config-specific fix of a cause.
pub fn diagnosis_text(d: &Diagnosis, fix: &dyn Fn(gatehouse_model::Cause) -> String) -> String {
    let mut out = String::new();
    match d.top() {
        None => out.push_str("No known cause in these signals: this does not look like a CloudFront or Gatehouse refusal.\n"),
        Some(top) => {
            let _ = writeln!(
                out,
                "Cause: {} ({:?}) — {}",
                top.cause.id(),
                top.confidence,
                top.cause.summary()
            );
            let _ = writeln!(out, "Why: {}", top.why);
            let _ = writeln!(out, "Fix: {}", fix(top.cause));
            let others: Vec<_> = d.candidates.iter().skip(1).collect();
            if !others.is_empty() {
                out.push_str("Other candidates:\n");
                for c in others {
                    let _ = writeln!(out, "  - {} ({:?}): {}", c.cause.id(), c.confidence, c.why);
                }
            }
        }
    }
    if !d.evidence.is_empty() {
        out.push_str("Evidence:\n");
        for e in &d.evidence {
            let _ = writeln!(out, "  - {e}");
        }
    }
    if let Some(n) = &d.next_check {
        let _ = writeln!(out, "Next check: {n}");
    }
    out
}

/// JSON for one diagnosis.
pub fn diagnosis_json(
    d: &Diagnosis,
    fix: &dyn Fn(gatehouse_model::Cause) -> String,
) -> serde_json::Value {
    serde_json::json!({
        "cause": d.top().map(|c| c.cause.id()),
        "confidence": d.top().map(|c| c.confidence),
        "fix": d.top().map(|c| fix(c.cause)),
        "candidates": d.candidates,
        "evidence": d.evidence,
        "next_check": d.next_check,
    })
}

fn top_n(m: &HashMap<String, u64>, n: usize) -> Vec<(&str, u64)> {
    let mut v: Vec<(&str, u64)> = m.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.truncate(n);
    v
}

fn sorted_groups(s: &Summary) -> Vec<&Group> {
    let mut g: Vec<&Group> = s.groups.values().collect();
    g.sort_by(|a, b| b.count.cmp(&a.count).then(a.cause.cmp(&b.cause)));
    g
}

fn normal(s: &Summary) -> Option<f64> {
    (s.time_taken_count > 0).then(|| s.time_taken_sum / s.time_taken_count as f64)
}

/// Text for a log summary.
pub fn logs_text(s: &Summary, fix: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    let refused: u64 = s.groups.values().map(|g| g.count).sum();
    let _ = writeln!(
        out,
        "{} file(s), {} line(s), {} refused or failed (403/5xx), {} unreadable line(s)",
        s.files, s.lines, refused, s.bad_lines
    );
    for g in sorted_groups(s) {
        let _ = writeln!(
            out,
            "\n{} — {} request(s), {} … {}",
            g.cause, g.count, g.first, g.last
        );
        let _ = writeln!(out, "  why: {}", g.why);
        if !g.alternatives.is_empty() {
            let _ = writeln!(out, "  could also be: {}", g.alternatives.join(", "));
        }
        let mean = g.time_taken_sum / g.count.max(1) as f64;
        if let Some(n) = normal(s) {
            let _ = writeln!(
                out,
                "  time-taken: {mean:.3} s on average against {n:.3} s for all requests{}",
                if mean < n / 5.0 {
                    " — far faster than usual: answered at the edge, not by the origin"
                } else {
                    ""
                }
            );
        }
        for (label, m) in [
            ("paths", &g.paths),
            ("viewer IPs", &g.ips),
            ("user agents", &g.user_agents),
        ] {
            let top: Vec<String> = top_n(m, 3)
                .iter()
                .map(|(k, v)| format!("{k} ({v})"))
                .collect();
            let _ = writeln!(out, "  top {label}: {}", top.join(", "));
        }
        let _ = writeln!(out, "  fix: {}", fix(&g.cause));
        if let Some(n) = &g.next_check {
            let _ = writeln!(out, "  next check: {n}");
        }
        let _ = writeln!(out, "  example request id: {}", g.sample_request_id);
    }
    for r in &s.request {
        out.push_str("\nThe request:\n");
        for (k, v) in r {
            let _ = writeln!(out, "  {k}: {v}");
        }
    }
    if !s.problems.is_empty() {
        out.push_str("\nUnreadable lines:\n");
        for p in &s.problems {
            let _ = writeln!(out, "  {p}");
        }
    }
    out
}

/// JSON for a log summary.
pub fn logs_json(s: &Summary, fix: &dyn Fn(&str) -> String) -> serde_json::Value {
    let groups: Vec<serde_json::Value> = sorted_groups(s)
        .into_iter()
        .map(|g| {
            serde_json::json!({
                "cause": g.cause,
                "confidence": g.confidence,
                "alternatives": g.alternatives,
                "why": g.why,
                "fix": fix(&g.cause),
                "next_check": g.next_check,
                "count": g.count,
                "statuses": g.statuses,
                "first": g.first,
                "last": g.last,
                "mean_time_taken": g.time_taken_sum / g.count.max(1) as f64,
                "top_paths": top_n(&g.paths, 10),
                "top_ips": top_n(&g.ips, 10),
                "top_user_agents": top_n(&g.user_agents, 10),
                "sample_request_id": g.sample_request_id,
            })
        })
        .collect();
    serde_json::json!({
        "files": s.files,
        "lines": s.lines,
        "bad_lines": s.bad_lines,
        "problems": s.problems,
        "normal_time_taken": normal(s),
        "groups": groups,
        "request": s.request,
    })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const COLORS: [&str; 8] = [
    "#d1495b", "#edae49", "#00798c", "#30638e", "#003d5b", "#8f2d56", "#6a994e", "#7f7f7f",
];

/// A self-contained HTML report: refusals by cause over time (stacked bars), top paths, and
/// the groups with their fixes.
pub fn logs_html(s: &Summary, fix: &dyn Fn(&str) -> String) -> String {
    let groups = sorted_groups(s);
    let mut hours: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (gi, g) in groups.iter().enumerate() {
        for (h, n) in &g.per_hour {
            hours
                .entry(h.as_str())
                .or_insert_with(|| vec![0; groups.len()])[gi] += n;
        }
    }
    let max = hours
        .values()
        .map(|v| v.iter().sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1);
    let (w, h) = (760.0_f64, 240.0_f64);
    let bw = if hours.is_empty() {
        w
    } else {
        w / hours.len() as f64
    };
    let mut svg = format!(
        r#"<svg id="by-cause" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="refusals by cause over time">"#,
        w + 40.0,
        h + 40.0,
        w + 40.0,
        h + 40.0
    );
    for (i, (hour, counts)) in hours.iter().enumerate() {
        let mut y = h;
        for (gi, n) in counts.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let bh = (*n as f64 / max as f64) * (h - 10.0);
            y -= bh;
            let _ = write!(
                svg,
                r#"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} {}: {}</title></rect>"#,
                30.0 + i as f64 * bw + 1.0,
                y,
                (bw - 2.0).max(1.0),
                bh,
                COLORS[gi % COLORS.len()],
                esc(hour),
                esc(&groups[gi].cause),
                n
            );
        }
    }
    let _ = write!(
        svg,
        r##"<line x1="30" y1="{h}" x2="{}" y2="{h}" stroke="#333"/><text x="0" y="12" font-size="11">{max}</text></svg>"##,
        w + 30.0
    );
    let mut legend = String::new();
    for (gi, g) in groups.iter().enumerate() {
        let _ = write!(
            legend,
            r#"<span class="key"><i style="background:{}"></i>{} ({})</span> "#,
            COLORS[gi % COLORS.len()],
            esc(&g.cause),
            g.count
        );
    }
    // Top paths over all groups.
    let mut paths: HashMap<String, u64> = HashMap::new();
    for g in &groups {
        for (p, n) in &g.paths {
            *paths.entry(p.clone()).or_default() += n;
        }
    }
    let top = top_n(&paths, 10);
    let pmax = top.first().map_or(1, |t| t.1).max(1);
    let mut psvg = format!(
        r#"<svg id="top-paths" xmlns="http://www.w3.org/2000/svg" width="800" height="{}">"#,
        24 * top.len() + 10
    );
    for (i, (p, n)) in top.iter().enumerate() {
        let bw = 500.0 * *n as f64 / pmax as f64;
        let _ = write!(
            psvg,
            r##"<rect class="bar" x="290" y="{}" width="{bw:.1}" height="18" fill="#30638e"/><text x="285" y="{}" font-size="12" text-anchor="end">{}</text><text x="{:.1}" y="{}" font-size="12">{n}</text>"##,
            i * 24 + 4,
            i * 24 + 17,
            esc(&p.chars().take(40).collect::<String>()),
            295.0 + bw,
            i * 24 + 17
        );
    }
    psvg.push_str("</svg>");
    let mut rows = String::new();
    for g in &groups {
        let _ = write!(
            rows,
            "<tr><td><code>{}</code></td><td>{}</td><td>{} … {}</td><td>{}</td><td>{}</td></tr>",
            esc(&g.cause),
            g.count,
            esc(&g.first),
            esc(&g.last),
            esc(&g.why),
            esc(&fix(&g.cause))
        );
    }
    let refused: u64 = groups.iter().map(|g| g.count).sum();
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Gatehouse doctor report</title>
<style>body{{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}}h1{{font-size:20px}}table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:6px;text-align:left;vertical-align:top}}.key{{margin-right:12px}}.key i{{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}}</style></head>
<body><h1>Why requests were refused</h1>
<p>{files} file(s), {lines} line(s), <b>{refused}</b> refused or failed (403/5xx), {bad} unreadable line(s).</p>
<h2>Refusals by cause over time (per hour)</h2><div>{legend}</div>{svg}
<h2>Top refused paths</h2>{psvg}
<h2>Causes and fixes</h2><table><tr><th>cause</th><th>requests</th><th>when</th><th>why</th><th>fix</th></tr>{rows}</table>
</body></html>
"#,
        files = s.files,
        lines = s.lines,
        bad = s.bad_lines,
    )
}
