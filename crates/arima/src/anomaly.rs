//! The anomaly rule of the system we replace: fit, take the in-sample
//! one-step prediction interval, clip the lower band at its own 1st
//! percentile and the upper band at its own 99th, and flag every day whose
//! observed value falls outside.

use ndarray::Array1;
use rayon::prelude::*;

use crate::grid::{grid_search_until, Grid};
use crate::stats::percentile;
use crate::{Arima, ArimaError, Cancel, FittedArima, Order};

/// Series shorter than this are skipped (the replaced system needed > 2 days).
pub const MIN_POINTS: usize = 3;

/// How to detect: a fixed order, or a grid search for one.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DetectOptions {
    /// Order used when `grid` is `None`.
    pub order: Order,
    /// Two-sided interval level (the replaced system used 0.8).
    pub level: f64,
    /// Choose the order per series by walk-forward grid search.
    pub grid: Option<Grid>,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            order: Order::DEFAULT,
            level: 0.8,
            grid: None,
        }
    }
}

/// The result for one series: the model and, per point, the prediction,
/// the clipped band and the flag.
#[derive(Debug, Clone)]
pub struct Detection {
    /// The fitted model.
    pub model: FittedArima,
    /// Whether a grid search chose the order.
    pub grid_searched: bool,
    /// One-step-ahead predictions.
    pub predicted: Array1<f64>,
    /// Standard deviation of each one-step prediction (what the band is
    /// a multiple of, before clipping).
    pub sd: Array1<f64>,
    /// Lower band, clipped below at its 1st percentile.
    pub lower: Array1<f64>,
    /// Upper band, clipped above at its 99th percentile.
    pub upper: Array1<f64>,
    /// Whether each observation lies outside [lower, upper].
    pub anomaly: Vec<bool>,
    /// The level the lower band was clipped at (its 1st percentile).
    pub lower_clip: f64,
    /// The level the upper band was clipped at (its 99th percentile).
    pub upper_clip: f64,
    /// The interval level of the bands.
    pub level: f64,
}

/// The clip levels of the replaced system: the lower band's own 1st
/// percentile and the upper band's own 99th (numpy's linear rule).
pub fn clip_levels(lower: &Array1<f64>, upper: &Array1<f64>) -> (f64, f64) {
    (
        percentile(lower.as_slice().expect("contiguous"), 1.0),
        percentile(upper.as_slice().expect("contiguous"), 99.0),
    )
}

/// Fits (or grid-searches) one series and flags its anomalies.
pub fn detect(y: &[f64], opts: &DetectOptions) -> Result<Detection, ArimaError> {
    detect_until(y, opts, Cancel::never())
}

/// [`detect`] that stops early, with [`ArimaError::Cancelled`], once `cancel` is raised.
pub fn detect_until(y: &[f64], opts: &DetectOptions, cancel: &Cancel) -> Result<Detection, ArimaError> {
    cancel.check()?;
    if y.len() < MIN_POINTS {
        return Err(ArimaError::TooShort {
            n: y.len(),
            min: MIN_POINTS,
        });
    }
    crate::check_level(opts.level)?;
    let order = match &opts.grid {
        Some(grid) => grid_search_until(y, grid, cancel)?.best,
        None => opts.order,
    };
    let model = Arima::new(order).fit_until(y, cancel)?;
    Ok(flag(model, opts.level, opts.grid.is_some()))
}

/// Flags anomalies of an already fitted model against its own data.
pub fn flag(model: FittedArima, level: f64, grid_searched: bool) -> Detection {
    let pred = model.in_sample_prediction();
    let (lower, upper) = pred.interval(level).expect("level checked by the caller");
    let (lower_clip, upper_clip) = clip_levels(&lower, &upper);
    let (lower, upper) = (lower.mapv(|v| v.max(lower_clip)), upper.mapv(|v| v.min(upper_clip)));
    let anomaly = model
        .data()
        .iter()
        .zip(lower.iter().zip(&upper))
        .map(|(&y, (&lo, &hi))| y < lo || y > hi)
        .collect();
    Detection {
        model,
        grid_searched,
        sd: pred.variance.mapv(f64::sqrt),
        predicted: pred.mean,
        lower,
        upper,
        anomaly,
        lower_clip,
        upper_clip,
        level,
    }
}

/// [`detect`] over many series in parallel; each series gets its own
/// result, so one bad series never fails the batch. Series not started
/// when `cancel` is raised come back as [`ArimaError::Cancelled`].
pub fn detect_many<S: AsRef<[f64]> + Sync>(
    series: &[S],
    opts: &DetectOptions,
    cancel: &Cancel,
) -> Vec<Result<Detection, ArimaError>> {
    series
        .par_iter()
        .map(|y| detect_until(y.as_ref(), opts, cancel))
        .collect()
}
