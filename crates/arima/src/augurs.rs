//! The model in augurs' forecasting traits, so it plugs into augurs pipelines.

use augurs_core::{Fit, Forecast, ForecastIntervals, ModelError, Predict};

use crate::{Arima, ArimaError, FittedArima, Prediction};

impl ModelError for ArimaError {}

impl Fit for Arima {
    type Fitted = FittedArima;
    type Error = ArimaError;

    fn fit(&self, y: &[f64]) -> Result<FittedArima, ArimaError> {
        Arima::fit(self, y)
    }
}

fn fill(pred: Prediction, level: Option<f64>, out: &mut Forecast) -> Result<(), ArimaError> {
    if let Some(level) = level {
        let (lower, upper) = pred.interval(level)?;
        out.intervals = Some(ForecastIntervals {
            level,
            lower: lower.to_vec(),
            upper: upper.to_vec(),
        });
    }
    out.point = pred.mean.to_vec();
    Ok(())
}

impl Predict for FittedArima {
    type Error = ArimaError;

    fn predict_in_sample_inplace(&self, level: Option<f64>, forecast: &mut Forecast) -> Result<(), ArimaError> {
        fill(self.in_sample_prediction(), level, forecast)
    }

    fn predict_inplace(&self, horizon: usize, level: Option<f64>, forecast: &mut Forecast) -> Result<(), ArimaError> {
        fill(self.forecast(horizon), level, forecast)
    }

    fn training_data_size(&self) -> usize {
        self.nobs()
    }
}
