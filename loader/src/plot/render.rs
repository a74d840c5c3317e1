//! `loader plot`: the two pictures of the old system, per airport and
//! year, rendered from `airport_daily_summary` with plotters:
//! `daily_average_delay_departure.png` (observed mean as points, red on
//! anomalies, the predicted line and the shaded band) and
//! `daily_flights.png` (daily flights as bars, red on anomalies).
//! Text uses a font compiled into the binary, so no system font is needed.
//! Red is used for anomalies only: a picture has red pixels exactly when
//! its year has anomalies.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::{Days, NaiveDate};
use plotters::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use crate::pg;
use crate::source::S3;

pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 600;
/// The anomaly colour; nothing else is drawn in it.
pub const ANOMALY: RGBColor = RGBColor(214, 39, 40);
const NORMAL: RGBColor = RGBColor(31, 119, 180);
const BAND: RGBColor = RGBColor(174, 199, 232);
const PREDICTED: RGBColor = RGBColor(60, 60, 60);
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// One day of an airport's year, as `airport_daily_summary` holds it.
#[derive(Debug, Clone)]
pub struct Day {
    pub date: NaiveDate,
    pub mean_delay: f64,
    pub flights: i64,
    pub anomaly: Option<bool>,
    pub pred: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// An airport's year and the order of its model, if it has one.
#[derive(Debug, Clone)]
pub struct AirportYear {
    pub origin: String,
    pub year: i32,
    pub order: Option<(i32, i32, i32)>,
    pub level: f64,
    pub days: Vec<Day>,
}

impl AirportYear {
    fn has_anomalies(&self) -> bool {
        self.days.iter().any(|d| d.anomaly == Some(true))
    }
}

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let parsed = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok();
        assert!(parsed, "the embedded font parses");
    });
}

/// A chart with days on the x axis.
type DatedChart<'a, DB, Y> = ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedDate<NaiveDate>, Y>>;

/// The frame both charts share: caption, dated x axis, labelled y axis.
fn frame<'a, DB: DrawingBackend, Y: plotters::coord::ranged1d::AsRangedCoord>(
    root: &'a DrawingArea<DB, plotters::coord::Shift>,
    a: &AirportYear,
    caption: String,
    y: Y,
    y_desc: &str,
) -> Result<DatedChart<'a, DB, Y::CoordDescType>>
where
    DB::ErrorType: 'static,
    Y::Value: std::fmt::Debug,
    Y::CoordDescType: plotters::coord::ranged1d::ValueFormatter<Y::Value>,
{
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(date_range(a), y)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_labels(12)
        .x_label_formatter(&|d: &NaiveDate| d.format("%b %d").to_string())
        .y_desc(y_desc)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(chart)
}

/// The legend box and the final write, the same on both charts.
fn legend_and_present<'a, DB: DrawingBackend + 'a, Y: plotters::coord::ranged1d::Ranged>(
    chart: &mut DatedChart<'a, DB, Y>,
    root: &DrawingArea<DB, plotters::coord::Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

fn date_range(a: &AirportYear) -> plotters::coord::types::RangedDate<NaiveDate> {
    let first = a.days.first().map_or(NaiveDate::MIN, |d| d.date);
    let last = a.days.last().map_or(NaiveDate::MIN, |d| d.date);
    (first..last + Days::new(1)).into()
}

/// Observed vs predicted delay with the band.
fn delay_chart<DB: DrawingBackend>(root: DrawingArea<DB, plotters::coord::Shift>, a: &AirportYear) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let order = a
        .order
        .map_or("no model".to_string(), |(p, d, q)| format!("ARIMA {p},{d},{q}"));
    let title = format!(
        "{} {} – average departure delay ({order}, {:.0} % interval)",
        a.origin,
        a.year,
        a.level * 100.0
    );
    let values = a
        .days
        .iter()
        .flat_map(|d| [Some(d.mean_delay), d.pred, d.lower, d.upper])
        .flatten();
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    let pad = ((hi - lo) * 0.05).max(1.0);
    let mut chart = frame(&root, a, title, (lo - pad)..(hi + pad), "minutes")?;
    let band: Vec<(NaiveDate, f64, f64)> = a
        .days
        .iter()
        .filter_map(|d| Some((d.date, d.lower?, d.upper?)))
        .collect();
    if !band.is_empty() {
        let outline: Vec<(NaiveDate, f64)> = band
            .iter()
            .map(|b| (b.0, b.2))
            .chain(band.iter().rev().map(|b| (b.0, b.1)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(outline, BAND.mix(0.6).filled())))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label(format!("{:.0} % band", a.level * 100.0))
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], BAND.filled()));
        chart
            .draw_series(LineSeries::new(
                a.days.iter().filter_map(|d| Some((d.date, d.pred?))),
                PREDICTED.stroke_width(2),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label("predicted")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], PREDICTED.stroke_width(2)));
    }
    let points = |flag: bool, colour: RGBColor| {
        a.days
            .iter()
            .filter(move |d| d.anomaly.unwrap_or(false) == flag)
            .map(move |d| Circle::new((d.date, d.mean_delay), 3, colour.filled()))
    };
    chart
        .draw_series(points(false, NORMAL))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .label("observed, normal")
        .legend(|(x, y)| Circle::new((x + 8, y), 4, NORMAL.filled()));
    if a.has_anomalies() {
        chart
            .draw_series(points(true, ANOMALY))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label("observed, anomaly")
            .legend(|(x, y)| Circle::new((x + 8, y), 4, ANOMALY.filled()));
    }
    legend_and_present(&mut chart, &root)
}

/// Daily flights as bars.
fn flights_chart<DB: DrawingBackend>(root: DrawingArea<DB, plotters::coord::Shift>, a: &AirportYear) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let max = a.days.iter().map(|d| d.flights).max().unwrap_or(1).max(1);
    let caption = format!("{} {} – daily flights", a.origin, a.year);
    let mut chart = frame(&root, a, caption, 0i64..(max + max / 10 + 1), "flights")?;
    let bars = |flag: bool, colour: RGBColor| {
        a.days
            .iter()
            .filter(move |d| d.anomaly.unwrap_or(false) == flag)
            .map(move |d| Rectangle::new([(d.date, 0), (d.date + Days::new(1), d.flights)], colour.filled()))
    };
    chart
        .draw_series(bars(false, NORMAL))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .label("normal")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], NORMAL.filled()));
    if a.has_anomalies() {
        chart
            .draw_series(bars(true, ANOMALY))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label("anomaly")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], ANOMALY.filled()));
    }
    legend_and_present(&mut chart, &root)
}

/// The two pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// `daily_average_delay_departure`: observed vs predicted with the band.
    Delay,
    /// `daily_flights`: flights as bars.
    Flights,
}

impl Chart {
    pub const ALL: [Chart; 2] = [Chart::Delay, Chart::Flights];

    pub fn file_stem(self) -> &'static str {
        match self {
            Chart::Delay => "daily_average_delay_departure",
            Chart::Flights => "daily_flights",
        }
    }

    fn draw<DB: DrawingBackend>(self, root: DrawingArea<DB, plotters::coord::Shift>, a: &AirportYear) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        match self {
            Chart::Delay => delay_chart(root, a),
            Chart::Flights => flights_chart(root, a),
        }
    }
}

/// Renders one chart to PNG bytes (deterministic: same data, same bytes).
pub fn png(chart: Chart, a: &AirportYear) -> Result<Vec<u8>> {
    register_font();
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    chart.draw(
        BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area(),
        a,
    )?;
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()?.write_image_data(&rgb)?;
    Ok(out)
}

/// Renders one chart to SVG text.
pub fn svg(chart: Chart, a: &AirportYear) -> Result<String> {
    register_font();
    let mut out = String::new();
    chart.draw(
        SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area(),
        a,
    )?;
    Ok(out)
}

pub struct PlotArgs {
    pub year: i32,
    pub airports: Vec<String>,
    pub out: String,
    pub svg: bool,
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PlotSummary {
    pub airports: usize,
    pub files: usize,
    pub seconds: f64,
}

const SERIES_SQL: &str = "
    SELECT s.origin_airport, s.date, s.average_dep_delay, s.flights, s.dep_delay_anomaly,
           s.dep_delay_pred, s.dep_delay_lower_ci, s.dep_delay_higher_ci, m.p, m.d, m.q, m.level
    FROM airport_daily_summary s
    LEFT JOIN airport_models m ON m.origin_airport = s.origin_airport AND m.year = $1
    WHERE s.date >= make_date($1, 1, 1) AND s.date < make_date($1 + 1, 1, 1)
      AND s.average_dep_delay IS NOT NULL
      AND (cardinality($2::text[]) = 0 OR s.origin_airport = ANY ($2::text[]))
    ORDER BY s.origin_airport, s.date";

async fn read_years(args: &PlotArgs) -> Result<Vec<AirportYear>> {
    let client = pg::connect(&pg::config()?).await?;
    pg::require_schema(&client).await?;
    let rows = client
        .query(SERIES_SQL, &[&args.year, &args.airports])
        .await
        .context("reading airport_daily_summary")?;
    let mut out: Vec<AirportYear> = Vec::new();
    for r in rows {
        let origin: String = r.get(0);
        if out.last().is_none_or(|a| a.origin != origin) {
            let order = match (
                r.get::<_, Option<i32>>(8),
                r.get::<_, Option<i32>>(9),
                r.get::<_, Option<i32>>(10),
            ) {
                (Some(p), Some(d), Some(q)) => Some((p, d, q)),
                _ => None,
            };
            let level = r.get::<_, Option<f64>>(11).unwrap_or(0.8);
            out.push(AirportYear {
                origin,
                year: args.year,
                order,
                level,
                days: Vec::new(),
            });
        }
        out.last_mut().expect("pushed above").days.push(Day {
            date: r.get(1),
            mean_delay: r.get(2),
            flights: r.get(3),
            anomaly: r.get(4),
            pred: r.get(5),
            lower: r.get(6),
            upper: r.get(7),
        });
    }
    if out.is_empty() {
        bail!(
            "no summary rows for {} (run refresh_year or loader detect first)",
            args.year
        );
    }
    Ok(out)
}

/// Renders every airport-year (in parallel) and writes the files to a
/// directory or an S3 prefix, as `{year}/{origin}/{chart}.png`.
pub async fn run(args: &PlotArgs) -> Result<PlotSummary> {
    let start = std::time::Instant::now();
    let years = read_years(args).await?;
    let svg_too = args.svg;
    let files: Vec<(String, Vec<u8>)> = tokio::task::spawn_blocking(move || {
        years
            .par_iter()
            .map(|a| -> Result<Vec<(String, Vec<u8>)>> {
                let dir = format!("{}/{}", a.year, a.origin);
                let mut f = Vec::new();
                for chart in Chart::ALL {
                    f.push((format!("{dir}/{}.png", chart.file_stem()), png(chart, a)?));
                    if svg_too {
                        f.push((format!("{dir}/{}.svg", chart.file_stem()), svg(chart, a)?.into_bytes()));
                    }
                }
                Ok(f)
            })
            .collect::<Result<Vec<_>>>()
            .map(|v| v.into_iter().flatten().collect())
    })
    .await??;
    let airports = files.len() / if args.svg { 4 } else { 2 };
    if let Some(rest) = args.out.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let s3 = S3::new(args.endpoint_url.clone());
        let client = s3.client().await;
        for (key, bytes) in &files {
            let key = format!(
                "{}{key}",
                if prefix.is_empty() || prefix.ends_with('/') {
                    prefix.to_string()
                } else {
                    format!("{prefix}/")
                }
            );
            let content_type = if key.ends_with(".svg") {
                "image/svg+xml"
            } else {
                "image/png"
            };
            client
                .put_object()
                .bucket(bucket)
                .key(&key)
                .content_type(content_type)
                .body(bytes.clone().into())
                .send()
                .await
                .map_err(|e| crate::source::s3_error(&format!("s3://{bucket}/{key}"), e))?;
        }
    } else {
        for (name, bytes) in &files {
            let path = PathBuf::from(&args.out).join(name);
            std::fs::create_dir_all(path.parent().expect("has a parent"))?;
            std::fs::write(&path, bytes).with_context(|| format!("{}: cannot write", path.display()))?;
        }
    }
    Ok(PlotSummary {
        airports,
        files: files.len(),
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn year(anomalies: bool) -> AirportYear {
        let first = NaiveDate::from_ymd_opt(2013, 1, 1).unwrap();
        let days = (0..365)
            .map(|i| {
                let mean = 10.0 + 8.0 * ((i as f64) / 9.0).sin();
                Day {
                    date: first + Days::new(i),
                    mean_delay: if anomalies && i % 50 == 7 { mean + 60.0 } else { mean },
                    flights: 300 + (i as i64 % 7) * 20,
                    anomaly: Some(anomalies && i % 50 == 7),
                    pred: Some(mean),
                    lower: Some(mean - 12.0),
                    upper: Some(mean + 12.0),
                }
            })
            .collect();
        AirportYear {
            origin: "JFK".into(),
            year: first.year(),
            order: Some((5, 1, 1)),
            level: 0.8,
            days,
        }
    }

    /// (width, height, number of anomaly-red pixels) of a PNG.
    fn decode(bytes: &[u8]) -> (u32, u32, usize) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let red = buf[..info.buffer_size()]
            .chunks(3)
            .filter(|p| p[0] == ANOMALY.0 && p[1] == ANOMALY.1 && p[2] == ANOMALY.2)
            .count();
        (info.width, info.height, red)
    }

    #[test]
    fn red_exactly_when_the_year_has_anomalies() {
        for chart in Chart::ALL {
            let (w, h, red) = decode(&png(chart, &year(true)).unwrap());
            assert_eq!((w, h), (WIDTH, HEIGHT));
            assert!(red > 50, "anomalies drawn in red ({red} pixels)");
            let (_, _, red) = decode(&png(chart, &year(false)).unwrap());
            assert_eq!(red, 0, "no red without anomalies");
        }
    }

    #[test]
    fn rendering_is_deterministic() {
        let a = year(true);
        assert_eq!(png(Chart::Delay, &a).unwrap(), png(Chart::Delay, &a).unwrap());
        assert_eq!(svg(Chart::Flights, &a).unwrap(), svg(Chart::Flights, &a).unwrap());
    }
}
