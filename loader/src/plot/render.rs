//! The two pictures of the old system for one airport-year, rendered with
//! plotters:
//! `daily_average_delay_departure.png` (observed mean as points, red on
//! anomalies, the predicted line and the shaded band; the three days
//! furthest outside it labelled with their date and dominant cause) and
//! `daily_flights.png` (daily flights as bars, red on anomalies).
//! Text uses a font compiled into the binary, so no system font is needed.
//! Red is used for anomalies only: a picture has red pixels exactly when
//! its year has anomalies.

use anyhow::Result;
use chrono::{Days, NaiveDate};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use summary::SummaryRow;

pub(super) const WIDTH: u32 = 1200;
pub(super) const HEIGHT: u32 = 600;
/// The anomaly colour; nothing else is drawn in it.
pub(super) const ANOMALY: RGBColor = RGBColor(214, 39, 40);
const NORMAL: RGBColor = RGBColor(31, 119, 180);
const BAND: RGBColor = RGBColor(174, 199, 232);
const PREDICTED: RGBColor = RGBColor(60, 60, 60);
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// An airport's year: its summary rows in date order, and the order and
/// level of its model (from `airport_models`), if it has one.
#[derive(Debug, Clone)]
pub(crate) struct AirportYear {
    pub origin: String,
    pub year: i32,
    pub order: Option<(i32, i32, i32)>,
    pub level: f64,
    pub days: Vec<SummaryRow>,
}

impl AirportYear {
    fn has_anomalies(&self) -> bool {
        self.days.iter().any(|d| d.dep_delay_anomaly == Some(true))
    }

    /// The labels of the (up to) three flagged days furthest outside the
    /// band, most first: the day and its dominant delay cause.
    pub(crate) fn annotations(&self) -> Vec<(&SummaryRow, String)> {
        let mut flagged: Vec<&SummaryRow> = self.days.iter().filter(|d| d.dep_delay_anomaly == Some(true)).collect();
        flagged.sort_by(|a, b| {
            b.dep_delay_outside
                .unwrap_or(0.0)
                .total_cmp(&a.dep_delay_outside.unwrap_or(0.0))
        });
        flagged
            .into_iter()
            .take(3)
            .map(|d| {
                let cause = match d.dominant_cause() {
                    Some((cause, share)) => format!("{cause} {:.0} %", share * 100.0),
                    None => "cause not reported".to_string(),
                };
                (d, format!("{} · {cause}", d.date.format("%b %d")))
            })
            .collect()
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
        .flat_map(|d| {
            [
                Some(d.average_dep_delay),
                d.dep_delay_pred,
                d.dep_delay_lower_ci,
                d.dep_delay_higher_ci,
            ]
        })
        .flatten();
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    let pad = ((hi - lo) * 0.05).max(1.0);
    let mut chart = frame(&root, a, title, (lo - pad)..(hi + pad), "minutes")?;
    let band: Vec<(NaiveDate, f64, f64)> = a
        .days
        .iter()
        .filter_map(|d| Some((d.date, d.dep_delay_lower_ci?, d.dep_delay_higher_ci?)))
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
                a.days.iter().filter_map(|d| Some((d.date, d.dep_delay_pred?))),
                PREDICTED.stroke_width(2),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label("predicted")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], PREDICTED.stroke_width(2)));
    }
    let points = |flag: bool, colour: RGBColor| {
        a.days
            .iter()
            .filter(move |d| d.dep_delay_anomaly.unwrap_or(false) == flag)
            .map(move |d| Circle::new((d.date, d.average_dep_delay), 3, colour.filled()))
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
        // Labels lean away from the nearer edge, so none runs off the chart.
        let middle = a.days[a.days.len() / 2].date;
        let labels = a.annotations().into_iter().map(|(d, text)| {
            let (h, dx) = if d.date < middle {
                (HPos::Left, 6)
            } else {
                (HPos::Right, -6)
            };
            let style = ("sans-serif", 14)
                .into_font()
                .color(&PREDICTED)
                .pos(Pos::new(h, VPos::Bottom));
            EmptyElement::at((d.date, d.average_dep_delay)) + Text::new(text, (dx, -4), style)
        });
        chart.draw_series(labels).map_err(|e| anyhow::anyhow!("{e}"))?;
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
            .filter(move |d| d.dep_delay_anomaly.unwrap_or(false) == flag)
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
pub(crate) enum Chart {
    /// `daily_average_delay_departure`: observed vs predicted with the band.
    Delay,
    /// `daily_flights`: flights as bars.
    Flights,
}

impl Chart {
    pub(crate) const ALL: [Chart; 2] = [Chart::Delay, Chart::Flights];

    pub(crate) fn file_stem(self) -> &'static str {
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
pub(crate) fn png(chart: Chart, a: &AirportYear) -> Result<Vec<u8>> {
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
pub(crate) fn svg(chart: Chart, a: &AirportYear) -> Result<String> {
    register_font();
    let mut out = String::new();
    chart.draw(
        SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area(),
        a,
    )?;
    Ok(out)
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
                SummaryRow {
                    date: first + Days::new(i),
                    origin_airport: "JFK".into(),
                    average_dep_delay: if anomalies && i % 50 == 7 { mean + 60.0 } else { mean },
                    flights: 300 + (i as i64 % 7) * 20,
                    dep_delay_anomaly: Some(anomalies && i % 50 == 7),
                    dep_delay_pred: Some(mean),
                    dep_delay_lower_ci: Some(mean - 12.0),
                    dep_delay_higher_ci: Some(mean + 12.0),
                    dep_delay_source: Some(summary::Source::Fit),
                    dep_delay_outside: Some(if anomalies && i % 50 == 7 {
                        48.0 + i as f64 / 10.0
                    } else {
                        0.0
                    }),
                    weather_delay_minutes: Some(640.0),
                    carrier_delay_minutes: Some(360.0),
                    ..SummaryRow::default()
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

    /// The three days furthest outside the band carry their date and
    /// dominant cause; a year without causes says so.
    #[test]
    fn the_most_anomalous_days_are_labelled() {
        let mut a = year(true);
        let labels: Vec<String> = a.annotations().into_iter().map(|(_, t)| t).collect();
        assert_eq!(
            labels,
            [
                "Dec 24 · weather 64 %",
                "Nov 04 · weather 64 %",
                "Sep 15 · weather 64 %"
            ]
        );
        let svg = svg(Chart::Delay, &a).unwrap();
        assert!(labels.iter().all(|l| svg.contains(l.as_str())), "labels drawn");
        for d in &mut a.days {
            d.weather_delay_minutes = None;
            d.carrier_delay_minutes = None;
        }
        assert_eq!(a.annotations()[0].1, "Dec 24 · cause not reported");
        assert!(year(false).annotations().is_empty());
    }

    #[test]
    fn rendering_is_deterministic() {
        let a = year(true);
        assert_eq!(png(Chart::Delay, &a).unwrap(), png(Chart::Delay, &a).unwrap());
        assert_eq!(svg(Chart::Flights, &a).unwrap(), svg(Chart::Flights, &a).unwrap());
    }
}
