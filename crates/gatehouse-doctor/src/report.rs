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

/// The fix of a log group's cause: `(cause id, host, path)` → text, written against the
/// user's config when the caller has one.
pub type LogFix<'a> = &'a dyn Fn(&str, Option<&str>, Option<&str>) -> String;

/// The fix for a group, for its most frequent host and path.
fn group_fix(g: &Group, fix: LogFix<'_>) -> String {
    let host = top_n(&g.hosts, 1).first().map(|(h, _)| *h);
    let path = top_n(&g.paths, 1).first().map(|(p, _)| *p);
    fix(&g.cause, host, path)
}

fn get<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| *v != "-")
}

/// The diagnosis of one request's fields (`--request-id`).
fn request_diagnosis(fields: &[(String, String)]) -> Diagnosis {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .filter(|v| v != "-")
    };
    crate::classify::from_log_line(&get)
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
pub fn logs_text(s: &Summary, fix: LogFix<'_>) -> String {
    let mut out = String::new();
    let refused: u64 = s.groups.values().map(|g| g.count).sum();
    let _ = writeln!(
        out,
        "{} file(s), {} line(s), {} refused or failed (403, 5xx and the edge's own refusals), {} unreadable line(s)",
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
        if !g.rules.is_empty() {
            let rules: Vec<String> = top_n(&g.rules, 5)
                .iter()
                .map(|(k, v)| format!("{k} ({v})"))
                .collect();
            let _ = writeln!(
                out,
                "  WAF terminating rules (from the WAF logs): {}",
                rules.join(", ")
            );
        }
        let _ = writeln!(out, "  fix: {}", group_fix(g, fix));
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
        let d = request_diagnosis(r);
        if let Some(top) = d.top() {
            let _ = writeln!(
                out,
                "  → {} ({:?}): {}\n  fix: {}",
                top.cause.id(),
                top.confidence,
                top.why,
                fix(
                    top.cause.id(),
                    get(r, "x-host-header"),
                    get(r, "cs-uri-stem")
                )
            );
            let others: Vec<&str> = d.candidates.iter().skip(1).map(|c| c.cause.id()).collect();
            if !others.is_empty() {
                let _ = writeln!(out, "  could also be: {}", others.join(", "));
            }
            if let Some(n) = &d.next_check {
                let _ = writeln!(out, "  next check: {n}");
            }
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
pub fn logs_json(s: &Summary, fix: LogFix<'_>) -> serde_json::Value {
    let groups: Vec<serde_json::Value> = sorted_groups(s)
        .into_iter()
        .map(|g| {
            serde_json::json!({
                "cause": g.cause,
                "confidence": g.confidence,
                "alternatives": g.alternatives,
                "why": g.why,
                "fix": group_fix(g, fix),
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
                "waf_rules": top_n(&g.rules, 10),
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
        "request": s.request.iter().map(|r| {
            let d = request_diagnosis(r);
            serde_json::json!({
                "fields": r.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                "cause": d.top().map(|c| c.cause.id()),
                "confidence": d.top().map(|c| c.confidence),
                "fix": d.top().map(|c| fix(c.cause.id(), get(r, "x-host-header"), get(r, "cs-uri-stem"))),
                "candidates": d.candidates,
                "next_check": d.next_check,
            })
        }).collect::<Vec<_>>(),
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

/// A self-contained HTML report: headline numbers, refusals by cause over time (stacked bars
/// per hour, or per day over long ranges), the share of each cause, the top refused paths, and
/// one card per cause with its fix, what would decide, and where it came from.
pub fn logs_html(s: &Summary, fix: LogFix<'_>) -> String {
    let groups = sorted_groups(s);
    let refused: u64 = groups.iter().map(|g| g.count).sum();
    let color = |i: usize| COLORS[i % COLORS.len()];
    let pct = |n: u64, of: u64| {
        if of == 0 {
            0.0
        } else {
            n as f64 * 100.0 / of as f64
        }
    };
    let first = groups
        .iter()
        .map(|g| g.first.as_str())
        .filter(|f| !f.is_empty())
        .min()
        .unwrap_or("");
    let last = groups.iter().map(|g| g.last.as_str()).max().unwrap_or("");

    // Headline cards.
    let mut cards = String::new();
    let mut card = |label: &str, value: String, note: String, accent: &str| {
        let _ = write!(
            cards,
            r#"<div class="card" style="border-top-color:{accent}"><div class="label">{}</div><div class="value">{}</div><div class="note">{}</div></div>"#,
            esc(label),
            value,
            note
        );
    };
    card(
        "Requests read",
        thousands(s.lines),
        format!("{} file(s)", s.files),
        "#30638e",
    );
    card(
        "Refused or failed",
        thousands(refused),
        format!("{:.1}% of all requests", pct(refused, s.lines)),
        "#d1495b",
    );
    match groups.first() {
        Some(g) => card(
            "Top cause",
            format!("<code>{}</code>", esc(&g.cause)),
            format!(
                "{} requests, {:.0}% of refusals",
                thousands(g.count),
                pct(g.count, refused)
            ),
            color(0),
        ),
        None => card(
            "Top cause",
            "none".into(),
            "nothing was refused".into(),
            "#6a994e",
        ),
    }
    card(
        "Period",
        if first.is_empty() {
            "–".to_string()
        } else {
            esc(first.get(..10).unwrap_or(first))
        },
        if first.is_empty() {
            String::new()
        } else {
            format!("{} → {} UTC", esc(first), esc(last))
        },
        "#edae49",
    );
    if s.bad_lines > 0 {
        card(
            "Unreadable lines",
            thousands(s.bad_lines),
            "see the list at the end".into(),
            "#7f7f7f",
        );
    }

    let chart = time_chart(&groups);

    // Share by cause.
    let mut share = String::new();
    for (i, g) in groups.iter().enumerate() {
        let _ = write!(
            share,
            r#"<div class="row"><span class="name"><i style="background:{c}"></i><code>{id}</code></span><span class="track"><span class="fill" style="width:{w:.1}%;background:{c}"></span></span><span class="num">{n} <small>{p:.0}%</small></span></div>"#,
            c = color(i),
            id = esc(&g.cause),
            w = pct(g.count, groups[0].count),
            n = thousands(g.count),
            p = pct(g.count, refused)
        );
    }

    // Top paths over all groups.
    let mut paths: HashMap<&str, u64> = HashMap::new();
    for g in &groups {
        for (p, n) in &g.paths {
            *paths.entry(p.as_str()).or_default() += n;
        }
    }
    let mut top: Vec<(&str, u64)> = paths.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    top.truncate(10);
    let pmax = top.first().map_or(1, |t| t.1).max(1);
    let row_h = 26;
    let mut psvg = format!(
        r#"<svg id="top-paths" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 440 {h}" width="100%" role="img" aria-label="top refused paths">"#,
        h = row_h * top.len().max(1) + 4
    );
    for (i, (p, n)) in top.iter().enumerate() {
        let y = i * row_h + 2;
        let bw = 250.0 * *n as f64 / pmax as f64;
        let label: String = if p.chars().count() > 26 {
            format!("{}…", p.chars().take(25).collect::<String>())
        } else {
            p.to_string()
        };
        let _ = write!(
            psvg,
            r##"<text x="142" y="{ty}" class="tick" text-anchor="end">{label}<title>{full}</title></text><rect class="bar" x="148" y="{y}" width="{bw:.1}" height="18" rx="3" fill="#30638e"/><text x="{tx:.1}" y="{ty}" class="tick">{n}</text>"##,
            ty = y + 13,
            label = esc(&label),
            full = esc(p),
            tx = 152.0 + bw,
            n = thousands(*n)
        );
    }
    psvg.push_str("</svg>");

    // One card per cause.
    let normal = normal(s);
    let mut causes = String::new();
    for (i, g) in groups.iter().enumerate() {
        let conf = g
            .confidence
            .map(|c| format!("{c:?}").to_lowercase())
            .unwrap_or_else(|| "unknown".into());
        let summary = gatehouse_model::Cause::from_id(&g.cause)
            .map(|c| c.summary())
            .unwrap_or("No known cause in these lines.");
        let mean = g.time_taken_sum / g.count.max(1) as f64;
        let speed = match normal {
            Some(n) if n > 0.0 && mean < n / 5.0 => format!(
                "<p class=\"speed\">Answered in {mean:.3} s on average against {n:.3} s for all requests: far faster than usual, so answered at the edge, not by the origin.</p>"
            ),
            Some(n) => format!(
                "<p class=\"speed\">{mean:.3} s on average against {n:.3} s for all requests.</p>"
            ),
            None => String::new(),
        };
        let list = |m: &HashMap<String, u64>| {
            top_n(m, 3)
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<li><code>{}</code> <small>{}</small></li>",
                        esc(k),
                        thousands(*v)
                    )
                })
                .collect::<String>()
        };
        let mut statuses: Vec<(&String, &u64)> = g.statuses.iter().collect();
        statuses.sort();
        let statuses: Vec<String> = statuses.iter().map(|(k, v)| format!("{k} × {v}")).collect();
        let _ = write!(
            causes,
            r#"<section class="cause" style="border-left-color:{c}">
<div class="head"><h3><code>{id}</code></h3><span class="badge {conf}">{conf}</span><span class="count">{n} requests · {p:.1}% · {st}</span></div>
<p class="summary">{summary}</p>
<p class="why"><b>Why:</b> {why}{alts}</p>
<div class="fix"><b>Fix</b>{fix}</div>{next}{speed}
<div class="lists"><div><h4>Paths</h4><ul>{paths}</ul></div><div><h4>Viewer IPs</h4><ul>{ips}</ul></div><div><h4>User agents</h4><ul>{uas}</ul></div></div>
<p class="meta">{first} → {last} UTC · example request id <code>{rid}</code></p>
</section>"#,
            c = color(i),
            id = esc(&g.cause),
            n = thousands(g.count),
            p = pct(g.count, refused),
            st = esc(&statuses.join(", ")),
            summary = esc(summary),
            why = esc(&g.why),
            alts = if g.alternatives.is_empty() {
                String::new()
            } else {
                format!(
                    " <span class=\"alts\">Could also be: {}</span>",
                    g.alternatives
                        .iter()
                        .map(|a| format!("<code>{}</code>", esc(a)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            fix = esc(&group_fix(g, fix)),
            next = g
                .next_check
                .as_ref()
                .map(|n| format!("<div class=\"next\"><b>Next check</b>{}</div>", esc(n)))
                .unwrap_or_default(),
            paths = list(&g.paths),
            ips = list(&g.ips),
            uas = list(&g.user_agents),
            first = esc(&g.first),
            last = esc(&g.last),
            rid = esc(&g.sample_request_id),
        );
    }
    let problems = if s.problems.is_empty() {
        String::new()
    } else {
        format!(
            "<h2>Unreadable lines</h2><ul class=\"problems\">{}</ul>",
            s.problems
                .iter()
                .map(|p| format!("<li><code>{}</code></li>", esc(p)))
                .collect::<String>()
        )
    };
    let legend: String = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            format!(
                r#"<span class="key"><i style="background:{}"></i>{}</span>"#,
                color(i),
                esc(&g.cause)
            )
        })
        .collect();
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Gatehouse doctor — why requests were refused</title>
<style>
*{{box-sizing:border-box}}
body{{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2933;background:#f4f6f8}}
main{{max-width:960px;margin:0 auto;padding:28px 24px 40px}}
header h1{{font-size:24px;margin:0 0 4px}}
header p{{margin:0;color:#52606d}}
h2{{font-size:17px;margin:0 0 12px}}
.cards{{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin:20px 0}}
.card{{background:#fff;border-radius:10px;padding:14px 16px;border-top:4px solid #30638e;box-shadow:0 1px 3px rgba(0,0,0,.08)}}
.card .label{{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#616e7c}}
.card .value{{font-size:26px;font-weight:650;margin:2px 0}}
.card .value code{{font-size:18px}}
.card .note{{font-size:12px;color:#616e7c}}
.panel{{background:#fff;border-radius:10px;padding:18px 20px;margin:0 0 16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}}
.grid2{{display:grid;grid-template-columns:1fr 1fr;gap:16px}}
.grid2 .panel{{margin:0 0 16px}}
.legend{{margin:0 0 8px}}
.key{{display:inline-block;margin:0 14px 4px 0;font-size:12.5px}}
.key i,.row .name i{{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}}
.tick{{font-size:11px;fill:#52606d}}
.grid{{stroke:#e4e7eb}}
.row{{display:flex;align-items:center;margin:6px 0;font-size:13px}}
.row .name{{width:190px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}}
.row .track{{flex:1;height:14px;background:#eef1f4;border-radius:7px;margin:0 10px;overflow:hidden}}
.row .fill{{display:block;height:100%;border-radius:7px}}
.row .num{{width:90px;text-align:right;font-variant-numeric:tabular-nums}}
small{{color:#7b8794}}
code{{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}}
.cause{{background:#fff;border-radius:10px;padding:16px 20px;margin:0 0 14px;border-left:6px solid #30638e;box-shadow:0 1px 3px rgba(0,0,0,.08)}}
.cause .head{{display:flex;align-items:center;gap:10px;flex-wrap:wrap}}
.cause h3{{margin:0;font-size:16px}}
.cause h3 code{{font-size:15px}}
.badge{{font-size:11px;text-transform:uppercase;letter-spacing:.04em;padding:2px 8px;border-radius:9px;background:#e4e7eb;color:#3e4c59}}
.badge.certain{{background:#dff3e4;color:#1e6b34}}
.badge.likely{{background:#fff1d6;color:#8a5a00}}
.badge.possible{{background:#fde2e4;color:#8f2d3a}}
.count{{margin-left:auto;color:#52606d;font-size:13px}}
.summary{{margin:8px 0 4px;color:#3e4c59}}
.why{{margin:4px 0 10px;color:#3e4c59}}
.alts{{color:#7b8794}}
.fix,.next{{border-radius:8px;padding:9px 12px;margin:8px 0}}
.fix{{background:#eaf4ff;border:1px solid #c9e0f7}}
.next{{background:#fff8e6;border:1px solid #f3dfa8}}
.fix b,.next b{{display:block;font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:#52606d;margin-bottom:2px}}
.speed{{font-size:13px;color:#52606d;margin:6px 0}}
.lists{{display:grid;grid-template-columns:1fr 1fr 1.4fr;gap:12px;margin-top:6px}}
.lists h4{{margin:0 0 4px;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#616e7c}}
.lists ul{{margin:0;padding:0;list-style:none;font-size:12.5px}}
.lists li{{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}}
.meta{{font-size:12px;color:#7b8794;margin:8px 0 0}}
.problems{{font-size:12.5px}}
footer{{color:#7b8794;font-size:12px;margin-top:20px}}
</style></head>
<body><main>
<header><h1>Why requests were refused</h1><p>Gatehouse doctor read {files} log file(s): every 403, every 5xx and every refusal of the edge itself, grouped by cause.</p></header>
<div class="cards">{cards}</div>
<div class="panel"><h2>Refusals by cause over time</h2><div class="legend">{legend}</div>{chart}</div>
<div class="grid2"><div class="panel"><h2>Share by cause</h2>{share}</div><div class="panel"><h2>Top refused paths</h2>{psvg}</div></div>
<h2>Causes and fixes</h2>
{causes}
{problems}
<footer>{lines} line(s) read, {bad} unreadable. Causes are the ids of the Gatehouse cause catalogue; “likely” and “possible” mean the logs alone cannot prove it — the next check says what would.</footer>
</main></body></html>
"#,
        files = s.files,
        lines = thousands(s.lines),
        bad = thousands(s.bad_lines),
    )
}

/// `12345` → `12,345`.
fn thousands(n: u64) -> String {
    let d = n.to_string();
    let mut out = String::with_capacity(d.len() + d.len() / 3);
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A round axis maximum at or above `v`, divisible by 4 (the grid lines) from 4 on: 4, 8,
/// 12, 20, 40, 60, 80, 100, 120, 160, 200, 240, 300, 400…
fn nice_max(v: u64) -> u64 {
    let mut scale = 1;
    loop {
        for m in [4, 8, 12, 16, 20, 24, 30, 40, 60, 80] {
            if m * scale >= v {
                return m * scale;
            }
        }
        scale *= 10;
    }
}

/// The stacked bars: one per hour from the first to the last (per day when that is more than
/// two weeks), hours without refusals included.
fn time_chart(groups: &[&Group]) -> String {
    // Hour keys `YYYY-MM-DD HH` → epoch hour.
    let hour_of = |k: &str| {
        let (date, h) = k.split_once(' ')?;
        let t = format!("{}:00:00", h.get(..2)?);
        crate::classify::epoch_seconds(date, &t).map(|s| s / 3600)
    };
    let mut by: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (gi, g) in groups.iter().enumerate() {
        for (k, n) in &g.per_hour {
            if let Some(h) = hour_of(k) {
                by.entry(h).or_insert_with(|| vec![0; groups.len()])[gi] += n;
            }
        }
    }
    let (Some(&lo), Some(&hi)) = (by.keys().next(), by.keys().next_back()) else {
        return r#"<svg id="by-cause" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 900 60" width="100%"><text x="10" y="30" class="tick">no refusals</text></svg>"#.to_string();
    };
    let daily = hi - lo > 24 * 14;
    let step = if daily { 24 } else { 1 };
    let (lo, hi) = (lo / step * step, hi / step * step);
    let mut buckets: Vec<(u64, Vec<u64>)> = (lo..=hi)
        .step_by(step as usize)
        .map(|b| (b, vec![0; groups.len()]))
        .collect();
    for (h, counts) in by {
        let i = ((h / step * step - lo) / step) as usize;
        for (gi, n) in counts.into_iter().enumerate() {
            buckets[i].1[gi] += n;
        }
    }
    let max = nice_max(
        buckets
            .iter()
            .map(|(_, c)| c.iter().sum::<u64>())
            .max()
            .unwrap_or(1)
            .max(1),
    );
    let (w, h, left, top, bottom) = (900.0_f64, 280.0_f64, 46.0_f64, 10.0_f64, 34.0_f64);
    let plot_w = w - left - 8.0;
    let plot_h = h - top - bottom;
    let bw = plot_w / buckets.len() as f64;
    let mut svg = format!(
        r#"<svg id="by-cause" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="refusals by cause per {unit}">"#,
        unit = if daily { "day" } else { "hour" }
    );
    for i in 0..=4 {
        let v = max * i / 4;
        let y = top + plot_h - plot_h * i as f64 / 4.0;
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{left}" y1="{y:.1}" x2="{x2}" y2="{y:.1}"/><text x="{tx}" y="{ty:.1}" class="tick" text-anchor="end">{v}</text>"#,
            x2 = w - 8.0,
            tx = left - 6.0,
            ty = y + 4.0,
            v = thousands(v)
        );
    }
    let label_every = (buckets.len() as f64 / 12.0).ceil().max(1.0) as usize;
    let civil = |hour: u64| {
        // epoch hour → (YYYY-MM-DD, HH)
        let days = (hour / 24) as i64;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        (format!("{y:04}-{m:02}-{d:02}"), hour % 24)
    };
    let mut last_date = String::new();
    for (i, (b, counts)) in buckets.iter().enumerate() {
        let x = left + i as f64 * bw;
        let mut y = top + plot_h;
        let (date, hh) = civil(*b);
        for (gi, n) in counts.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let bh = plot_h * *n as f64 / max as f64;
            y -= bh;
            let _ = write!(
                svg,
                r#"<rect class="bar" x="{:.1}" y="{y:.1}" width="{:.1}" height="{bh:.1}" fill="{}"><title>{} {}: {} × {}</title></rect>"#,
                x + bw * 0.12,
                (bw * 0.76).max(1.0),
                COLORS[gi % COLORS.len()],
                date,
                if daily {
                    String::new()
                } else {
                    format!("{hh:02}:00")
                },
                thousands(*n),
                esc(&groups[gi].cause)
            );
        }
        if i % label_every == 0 {
            let cx = x + bw / 2.0;
            let _ = write!(
                svg,
                r#"<text x="{cx:.1}" y="{ty}" class="tick" text-anchor="middle">{}</text>"#,
                if daily {
                    date[5..].to_string()
                } else {
                    format!("{hh:02}:00")
                },
                ty = top + plot_h + 15.0
            );
            if !daily && date != last_date {
                let _ = write!(
                    svg,
                    r#"<text x="{cx:.1}" y="{ty}" class="tick" text-anchor="middle">{}</text>"#,
                    &date[5..],
                    ty = top + plot_h + 29.0
                );
                last_date = date;
            }
        }
    }
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{y}" x2="{x2}" y2="{y}" stroke="#9aa5b1"/></svg>"##,
        y = top + plot_h,
        x2 = w - 8.0
    );
    svg
}
