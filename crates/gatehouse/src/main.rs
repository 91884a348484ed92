//! `gatehouse`: the command line. `serve` runs the edge, `check` validates a config directory.

mod demo;
mod doctor;
mod sign;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use gatehouse_edge::{Edge, Listeners};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Gatehouse: a self-hosted, CloudFront-compatible CDN edge that tells you why it said no.
#[derive(Parser)]
#[command(name = "gatehouse", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the edge. Without --config, runs the built-in demo on 127.0.0.1:8080 / :8443.
    Serve {
        /// Config directory: gatehouse.toml and distributions/*.json (AWS CLI output).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Re-read the config when a file in the directory changes (as SIGHUP does).
        #[arg(long)]
        watch: bool,
        /// Demo only: HTTP listen address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        demo_http: String,
        /// Demo only: HTTPS listen address.
        #[arg(long, default_value = "127.0.0.1:8443")]
        demo_https: String,
    },
    /// Validate a config directory without serving; exit 1 if it has problems.
    Check {
        /// Config directory.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Sign URLs and cookies as CloudFront checks them (like `aws cloudfront sign`).
    #[command(subcommand)]
    Sign(sign::SignCommand),
    /// Why did CloudFront (or Gatehouse) answer 403? Explain a response, probe a URL, read
    /// access logs, or check a config.
    #[command(subcommand)]
    Doctor(doctor::DoctorCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Check { config } => return check(&config),
        Command::Sign(cmd) => sign::run(cmd),
        Command::Doctor(cmd) => doctor::run(cmd),
        Command::Serve {
            config,
            watch,
            demo_http,
            demo_https,
        } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the runtime")
            .and_then(|rt| {
                // Run the server as a task so the main thread only waits: the workers then
                // drive their own I/O instead of handing every event across threads.
                rt.block_on(async {
                    tokio::spawn(serve(config, watch, demo_http, demo_https))
                        .await
                        .context("the server task failed")?
                })
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatehouse: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn check(dir: &Path) -> ExitCode {
    match gatehouse_model::load_dir(dir) {
        Ok(cfg) => {
            println!(
                "{}: OK ({} distribution(s))",
                dir.display(),
                cfg.distributions.len()
            );
            for d in &cfg.distributions {
                println!(
                    "  {} {} aliases [{}] {}",
                    d.id,
                    d.domain_name,
                    d.config.aliases.items.join(", "),
                    if d.config.enabled {
                        "enabled"
                    } else {
                        "disabled"
                    }
                );
            }
            ExitCode::SUCCESS
        }
        Err(errs) => {
            for p in &errs.0 {
                println!("{p}");
            }
            eprintln!("{} problem(s) found", errs.0.len());
            ExitCode::from(1)
        }
    }
}

async fn serve(
    config_dir: Option<PathBuf>,
    watch: bool,
    demo_http: String,
    demo_https: String,
) -> Result<()> {
    let mut _demo_dir = None;
    let dir = match config_dir {
        Some(d) => d,
        None => {
            let origin = demo::start_origin().await?;
            let tmp = std::env::temp_dir().join(format!("gatehouse-demo-{}", std::process::id()));
            demo::write_config(&tmp, origin, &demo_http, &demo_https)?;
            _demo_dir = Some(TempDir(tmp.clone()));
            tmp
        }
    };
    let config = gatehouse_model::load_dir(&dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let edge = Edge::new(&config).context("loading the configuration")?;
    let s = &config.settings;
    let listeners = Listeners::bind(&s.listen.http, &s.listen.https, s.admin.listen).await?;
    let addrs = listeners.addresses();
    // Signal handlers exist before anyone is told we listen, so an early signal is handled.
    let shutdown = shutdown_signal()?;
    let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("installing the SIGHUP handler")?;
    {
        let mut out = std::io::stdout().lock();
        for (kind, a) in &addrs {
            writeln!(out, "gatehouse: listening {kind} {a}")?;
        }
        if _demo_dir.is_some() {
            let http = addrs.iter().find(|(k, _)| *k == "http").map(|x| x.1);
            let https = addrs.iter().find(|(k, _)| *k == "https").map(|x| x.1);
            if let (Some(h), Some(hs)) = (http, https) {
                write!(out, "{}", demo::try_these(h, hs))?;
            }
        }
        out.flush()?;
    }
    tracing::info!(
        distributions = config.distributions.len(),
        edge = edge.host_id(),
        "serving"
    );
    tokio::spawn(reload_on_signal(edge.clone(), dir.clone(), hup));
    if watch {
        tokio::spawn(watch_dir(edge.clone(), dir.clone()));
    }
    gatehouse_edge::serve(edge.clone(), listeners, shutdown).await;
    // Every answered request's log line reaches the disk before the process exits.
    edge.shutdown_logs();
    tracing::info!("stopped");
    Ok(())
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Installs the SIGTERM/SIGINT handlers now; the future completes on the first of them.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: draining"),
            _ = int.recv() => tracing::info!("SIGINT: draining"),
        }
    })
}

/// Re-reads the config; an invalid one is refused and the running one kept.
fn reload(edge: &Arc<Edge>, dir: &Path) {
    match gatehouse_model::load_dir(dir) {
        Ok(cfg) => match edge.reload(&cfg) {
            Ok(()) => tracing::info!(
                distributions = cfg.distributions.len(),
                "configuration reloaded"
            ),
            Err(e) => {
                tracing::error!(error = %e, "reload refused; keeping the running configuration")
            }
        },
        Err(e) => tracing::error!("reload refused; keeping the running configuration: {e}"),
    }
}

async fn reload_on_signal(edge: Arc<Edge>, dir: PathBuf, mut hup: tokio::signal::unix::Signal) {
    while hup.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading");
        reload(&edge, &dir);
    }
}

fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).ok()?.flatten() {
            let Ok(md) = e.metadata() else { continue };
            if md.is_dir() {
                stack.push(e.path());
            } else if let Ok(m) = md.modified() {
                newest = newest.max(Some(m));
            }
        }
    }
    newest
}

async fn watch_dir(edge: Arc<Edge>, dir: PathBuf) {
    let mut last = newest_mtime(&dir);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = newest_mtime(&dir);
        if now != last {
            last = now;
            tracing::info!("config directory changed: reloading");
            reload(&edge, &dir);
        }
    }
}
