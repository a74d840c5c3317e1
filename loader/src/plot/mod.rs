//! `loader plot`: per airport and year, the old system's two pictures from
//! `airport_daily_summary`. Reading (`read`), rendering (`render`, in
//! parallel) and writing to a directory or an S3 prefix (`write`) are apart.

mod read;
mod render;
mod write;

use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;

pub(crate) use render::{png, svg, AirportYear, Chart};

pub(crate) struct PlotArgs {
    pub year: i32,
    pub airports: Vec<String>,
    pub out: String,
    pub svg: bool,
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct PlotSummary {
    pub airports: usize,
    pub files: usize,
    pub seconds: f64,
}

/// One rendered file: its path under the output, and its bytes.
pub(crate) struct File {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Both charts of one airport-year, as `{year}/{origin}/{chart}.png` (and `.svg`).
fn render_year(a: &AirportYear, svg_too: bool) -> Result<Vec<File>> {
    let dir = format!("{}/{}", a.year, a.origin);
    let mut files = Vec::new();
    for chart in Chart::ALL {
        let stem = format!("{dir}/{}", chart.file_stem());
        files.push(File {
            name: format!("{stem}.png"),
            bytes: png(chart, a)?,
        });
        if svg_too {
            files.push(File {
                name: format!("{stem}.svg"),
                bytes: svg(chart, a)?.into_bytes(),
            });
        }
    }
    Ok(files)
}

/// Renders every airport-year (in parallel) and writes the files.
pub(crate) async fn run(args: &PlotArgs) -> Result<PlotSummary> {
    let start = std::time::Instant::now();
    let years = read::airport_years(args.year, &args.airports).await?;
    let airports = years.len();
    let svg_too = args.svg;
    let files: Vec<File> = tokio::task::spawn_blocking(move || {
        years
            .par_iter()
            .map(|a| render_year(a, svg_too))
            .collect::<Result<Vec<_>>>()
            .map(|v| v.into_iter().flatten().collect())
    })
    .await??;
    write::files(&args.out, &files, args.endpoint_url.clone()).await?;
    Ok(PlotSummary {
        airports,
        files: files.len(),
        seconds: start.elapsed().as_secs_f64(),
    })
}
