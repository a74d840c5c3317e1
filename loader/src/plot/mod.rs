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

/// Whether `origin` can be a path segment: an airport code is 2 to 8
/// letters and digits (IATA, ICAO, FAA), nothing that could climb out of
/// the output directory or S3 prefix.
fn is_airport_code(origin: &str) -> bool {
    (2..=8).contains(&origin.len()) && origin.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Both charts of one airport-year, as `{year}/{origin}/{chart}.png` (and `.svg`).
fn render_year(a: &AirportYear, svg_too: bool) -> Result<Vec<File>> {
    if !is_airport_code(&a.origin) {
        crate::refuse!(
            "airport code {:?} is not 2 to 8 letters and digits: no file is named after it",
            a.origin
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_airport_codes_become_paths() {
        for ok in ["JFK", "KJFK", "A175", "Z9"] {
            assert!(is_airport_code(ok), "{ok}");
        }
        for bad in ["", "J", "../etc", "JF/K", "JFK ", "ÉWR", "ABCDEFGHI", ".."] {
            assert!(!is_airport_code(bad), "{bad}");
        }
        let year = AirportYear {
            origin: "../x".into(),
            year: 2013,
            order: None,
            level: 0.8,
            days: Vec::new(),
        };
        let Err(e) = render_year(&year, false) else {
            panic!("a path was made of ../x")
        };
        assert!(e.downcast_ref::<crate::Refused>().is_some(), "{e}");
    }
}
