//! `loader`: streams raw flight CSVs from S3 or local files into Postgres,
//! runs the anomaly detection client-side where the extension cannot be
//! installed, and generates synthetic years for benchmarks.
//!
//! Exit status: 0 done, 1 failed (S3, the database, a file that cannot be
//! read), 2 refused (bad arguments or input: see [`Refused`]).

mod columns;
mod copy;
mod detect;
mod generate;
mod inflate;
mod load;
mod pg;
mod plot;
mod records;
mod source;
mod tls;

use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use arima::{DetectOptions, Grid, Order};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(version, about = "Flight delay data into Postgres, and ARIMA anomalies out of it")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print the run's summary as one JSON object on stdout.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Load flight files into `flights`, replacing the days they cover (and their own earlier rows) atomically.
    Load {
        /// s3://bucket/key, s3://bucket/prefix/, or a local path or glob; plain, gzip or zstd.
        #[arg(required = true)]
        sources: Vec<String>,
        #[command(flatten)]
        s3: S3Args,
        /// Fail (replacing nothing) when more than this share of rows is malformed.
        #[arg(long, default_value_t = 0.01)]
        max_reject_ratio: f64,
        /// Run refresh_year (the extension) for every year loaded.
        #[arg(long)]
        then_refresh: bool,
        /// With --then-refresh: mark only the new or changed days from the
        /// stored models (refresh_year(year, refit => false)), refitting nothing.
        #[arg(long, requires = "then_refresh")]
        no_refit: bool,
    },
    /// Detect anomalies client-side: from the database (writing what refresh_year
    /// would), or from raw files with --input to a CSV with --out.
    Detect {
        /// The year to model (required with the database; with --input, every year by default).
        #[arg(long)]
        year: Option<i32>,
        #[command(flatten)]
        model: ModelArgs,
        /// Only these airports (repeatable).
        #[arg(long = "airport")]
        airports: Vec<String>,
        /// Read raw flight files instead of the database (same sources as load).
        #[arg(long)]
        input: Vec<String>,
        /// Write the summary rows (the columns of airport_daily_summary) to this CSV.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write the model rows to this CSV.
        #[arg(long)]
        models: Option<PathBuf>,
        #[command(flatten)]
        s3: S3Args,
    },
    /// Write a synthetic year of flights in the Kaggle schema.
    Generate {
        #[arg(long, default_value_t = 2015)]
        year: i32,
        #[arg(long, default_value_t = 350)]
        airports: usize,
        #[arg(long, default_value_t = 6_000_000)]
        flights: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Add this many malformed lines.
        #[arg(long, default_value_t = 0)]
        malformed: usize,
        /// Output file; .gz or .zst compress.
        #[arg(long)]
        out: PathBuf,
    },
    /// Render the two charts per airport-year from airport_daily_summary.
    Plot {
        #[arg(long)]
        year: i32,
        /// Only these airports (repeatable).
        #[arg(long = "airport")]
        airports: Vec<String>,
        /// A directory, or s3://bucket/prefix; files go to {year}/{origin}/*.png.
        #[arg(long)]
        out: String,
        /// Also write SVG versions.
        #[arg(long)]
        svg: bool,
        #[command(flatten)]
        s3: S3Args,
    },
    /// Install the plain-SQL schema (tables and views) where the extension cannot be installed.
    Schema {
        /// Update a plain schema made by an older loader (0.2.0) to this one's, keeping every row.
        #[arg(long)]
        upgrade: bool,
    },
}

#[derive(Args)]
struct S3Args {
    /// S3-compatible endpoint (also AWS_ENDPOINT_URL).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    endpoint_url: Option<String>,
}

#[derive(Args)]
struct ModelArgs {
    /// ARIMA order p,d,q.
    #[arg(long, default_value_t = DetectOptions::default().order)]
    order: Order,
    /// Prediction interval level.
    #[arg(long, default_value_t = DetectOptions::default().level)]
    level: f64,
    /// Choose the order per airport by walk-forward grid search.
    #[arg(long)]
    grid_search: bool,
}

impl ModelArgs {
    fn options(&self) -> Result<DetectOptions> {
        if let Err(e) = self.order.validate() {
            refuse!("--order: {e}");
        }
        if let Err(e) = arima::check_level(self.level) {
            refuse!("--level: {e}");
        }
        Ok(DetectOptions {
            order: self.order,
            level: self.level,
            grid: self.grid_search.then(Grid::default),
        })
    }
}

/// An error that refuses the input (bad arguments, a file missing a
/// required column, too many malformed rows) rather than a failure of the
/// run: the loader exits with 2 for it, with 1 for any other error.
#[derive(Debug)]
pub(crate) struct Refused(pub(crate) String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// `Err(Refused)` with a formatted message.
macro_rules! refuse {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::Refused(format!($($arg)*))))
    };
}
pub(crate) use refuse;

fn progress(json: bool) -> indicatif::ProgressBar {
    if json {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {human_pos} rows, {per_sec} — {msg}")
            .expect("valid template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn report<T: serde::Serialize>(json: bool, what: &str, summary: &T) {
    let text = serde_json::to_string(summary).expect("summaries serialise");
    if json {
        println!("{text}");
    } else {
        eprintln!("{what}: {text}");
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Load {
            sources,
            s3,
            max_reject_ratio,
            then_refresh,
            no_refit,
        } => {
            let bar = progress(cli.json);
            let opts = load::LoadOptions {
                sources,
                endpoint_url: s3.endpoint_url,
                max_reject_ratio,
                then_refresh,
                refit: !no_refit,
            };
            let summary = load::run(&opts, &bar).await;
            bar.finish_and_clear();
            report(cli.json, "loaded", &summary?);
        }
        Command::Detect {
            year,
            model,
            airports,
            input,
            out,
            models,
            s3,
        } => {
            if !input.is_empty() && out.is_none() && models.is_none() {
                refuse!("--input needs --out (and/or --models)");
            }
            let args = detect::DetectArgs {
                year,
                opts: model.options()?,
                airports,
                input,
                out,
                models,
                endpoint_url: s3.endpoint_url,
            };
            report(cli.json, "detected", &detect::run(&args).await?);
        }
        Command::Generate {
            year,
            airports,
            flights,
            seed,
            malformed,
            out,
        } => {
            let args = generate::GenerateArgs {
                year,
                airports,
                flights,
                seed,
                malformed,
            };
            let rows = tokio::task::spawn_blocking(move || generate::run(&args, &out)).await??;
            report(cli.json, "generated", &serde_json::json!({ "rows": rows }));
        }
        Command::Plot {
            year,
            airports,
            out,
            svg,
            s3,
        } => {
            let args = plot::PlotArgs {
                year,
                airports,
                out,
                svg,
                endpoint_url: s3.endpoint_url,
            };
            report(cli.json, "plotted", &plot::run(&args).await?);
        }
        Command::Schema { upgrade: false } => {
            pg::install_schema(&pg::config()?).await?;
            report(cli.json, "schema", &serde_json::json!({ "installed": true }));
        }
        Command::Schema { upgrade: true } => {
            let updated = pg::update_schema(&pg::config()?).await?;
            report(cli.json, "schema", &serde_json::json!({ "updated": updated }));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loader: {e:#}");
            if e.downcast_ref::<Refused>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
