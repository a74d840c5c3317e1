//! Fitting an ARIMA by exact maximum likelihood, and predicting from it.

use ndarray::Array1;

use crate::kalman::{self, FilterEnd};
use crate::optim::{self, Minimum, Objective, Settings};
use crate::params::{self, Params};
use crate::score;
use crate::ssm::StateSpace;
use crate::start::start_params;
use crate::stats::normal_quantile;
use crate::{ArimaError, Cancel, Order};

/// An ARIMA(p, d, q) specification, statsmodels' defaults: a constant
/// when d = 0, stationarity and invertibility enforced.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Arima {
    /// The order.
    pub order: Order,
    /// Iteration cap of the likelihood search.
    pub max_iter: usize,
    /// The search stops when every component of the gradient of
    /// −loglike / n (in the optimiser's unconstrained parameters) is below this.
    pub tolerance: f64,
}

impl Arima {
    /// A specification with the default search settings: tighter than
    /// statsmodels', so a fit never ends below statsmodels' likelihood.
    pub fn new(order: Order) -> Self {
        let s = Settings::default();
        Arima {
            order,
            max_iter: s.max_iter,
            tolerance: s.gtol,
        }
    }

    /// Stops the search where statsmodels' L-BFGS-B stops (`pgtol=1e-5` on
    /// the same objective, `maxiter=50`): enough for forecasts, and what
    /// the walk-forward refits of a grid search use.
    pub fn statsmodels_stopping(self) -> Self {
        Arima {
            max_iter: 50,
            tolerance: 1e-5,
            ..self
        }
    }

    /// Fits by maximum likelihood from statsmodels' start parameters.
    pub fn fit(&self, y: &[f64]) -> Result<FittedArima, ArimaError> {
        self.fit_until(y, Cancel::never())
    }

    /// [`Arima::fit`] that stops, with [`ArimaError::Cancelled`], at the
    /// next likelihood evaluation once `cancel` is raised.
    pub fn fit_until(&self, y: &[f64], cancel: &Cancel) -> Result<FittedArima, ArimaError> {
        let mut tape = score::Tape::default();
        let min = self.search(y, None, None, &mut tape, cancel)?.0;
        let fit = self.finish(y, min)?;
        if !at_invertibility_bound(fit.params()) {
            return Ok(fit);
        }
        // At the bound, BFGS may have passed by an interior optimum that
        // statsmodels' L-BFGS-B keeps, and a higher one (seen on real daily
        // means). A second search from the same point with the MA part
        // pulled back inside (|θ| = 0.9) finds it; the better is kept.
        let mut start = fit.params().clone();
        start
            .ma
            .iter_mut()
            .filter(|m| m.abs() >= 0.999)
            .for_each(|m| *m = 0.9 * m.signum());
        let second = params::untransform(&self.order, &start)
            .and_then(|x0| self.search(y, Some(x0), None, &mut tape, cancel).ok())
            .and_then(|(min, _)| self.finish(y, min).ok());
        cancel.check()?;
        Ok(match second {
            Some(other) if other.loglike() > fit.loglike() => other,
            _ => fit,
        })
    }

    /// Fits, starting the search from `warm` when it is a valid point
    /// (stationary, invertible, same order), else from statsmodels' start.
    pub fn fit_from(&self, y: &[f64], warm: Option<&Params>) -> Result<FittedArima, ArimaError> {
        let x0 = warm.and_then(|w| params::untransform(&self.order, w));
        let min = self
            .search(y, x0, None, &mut score::Tape::default(), Cancel::never())?
            .0;
        self.finish(y, min)
    }

    /// Refits on `y` (typically `previous`'s data plus new points), starting
    /// from `previous`'s optimum and curvature: a few iterations instead of
    /// a full search. This is what makes walk-forward validation cheap.
    pub fn refit(&self, y: &[f64], previous: &FittedArima) -> Result<FittedArima, ArimaError> {
        match (&previous.search, previous.order == self.order) {
            (Some(warm), true) => {
                let (min, _) = self.search(
                    y,
                    Some(warm.x.clone()),
                    Some(&warm.h),
                    &mut score::Tape::default(),
                    Cancel::never(),
                )?;
                self.finish(y, min)
            }
            _ => self.fit_from(y, Some(&previous.params)),
        }
    }

    /// The likelihood search from `x0` and inverse Hessian `h0` (else from
    /// statsmodels' start and the identity): its optimum, and the one-step
    /// forecast past `y` there, which the search's last pass computed.
    /// `tape` holds the passes; reusing it spares its buffers' growth.
    /// A raised `cancel` ends the search at its next evaluation.
    fn search(
        &self,
        y: &[f64],
        x0: Option<Vec<f64>>,
        h0: Option<&[f64]>,
        tape: &mut score::Tape,
        cancel: &Cancel,
    ) -> Result<(Minimum, f64), ArimaError> {
        let order = self.order;
        validate(y, &order)?;
        let x0 = x0
            .or_else(|| params::untransform(&order, &start_params(&order, y)))
            .ok_or(ArimaError::UnusableStart { order })?;
        let mut objective = Likelihood {
            order,
            y,
            tape,
            at: Vec::new(),
            last: f64::INFINITY,
            cancel,
        };
        let settings = Settings {
            max_iter: self.max_iter,
            gtol: self.tolerance,
            ..Settings::default()
        };
        let min = optim::minimize(&mut objective, &x0, h0, settings);
        cancel.check()?; // a cancelled search ends early: its point means nothing
        let min = min.ok_or(ArimaError::LikelihoodNotFinite {
            order,
            at: "start parameters",
        })?;
        if objective.at != min.x && !objective.value(&min.x).is_finite() {
            return Err(ArimaError::LikelihoodNotFinite { order, at: "optimum" });
        }
        let next = objective.tape.next_mean();
        Ok((min, next))
    }

    /// A fitted model at the search's optimum.
    fn finish(&self, y: &[f64], min: Minimum) -> Result<FittedArima, ArimaError> {
        let params = params::transform(&self.order, &min.x);
        let mut fit = FittedArima::from_params(self.order, params, y)?;
        fit.converged = min.converged;
        fit.iterations = min.iterations;
        fit.search = Some(WarmStart { x: min.x, h: min.h });
        Ok(fit)
    }

    /// One step of a walk-forward validation: the search on `y`, warm from
    /// the previous step's, and its one-step forecast past `y`, without
    /// building a [`FittedArima`] (its filter pass would be wasted here).
    pub(crate) fn forecast_step(
        &self,
        y: &[f64],
        warm: Option<&WarmStart>,
        tape: &mut score::Tape,
        cancel: &Cancel,
    ) -> Result<(f64, WarmStart), ArimaError> {
        let (min, next) = self.search(y, warm.map(|w| w.x.clone()), warm.map(|w| w.h.as_slice()), tape, cancel)?;
        Ok((next, WarmStart { x: min.x, h: min.h }))
    }
}

/// Where a search on a nearby problem starts: the optimiser's point and
/// its inverse-Hessian approximation.
#[derive(Debug, Clone)]
pub(crate) struct WarmStart {
    x: Vec<f64>,
    h: Vec<f64>,
}

/// −loglike / n as a function of the optimiser's unconstrained vector.
struct Likelihood<'a> {
    order: Order,
    y: &'a [f64],
    tape: &'a mut score::Tape,
    /// The point the tape was recorded at, and −loglike / n there.
    at: Vec<f64>,
    last: f64,
    /// Once raised, every value is infinite, so the search stops at once.
    cancel: &'a Cancel,
}

impl Objective for Likelihood<'_> {
    /// Records the filter's pass as it goes, so that the gradient at the
    /// same point (a line search asks for it next) costs only the backward pass.
    fn value(&mut self, x: &[f64]) -> f64 {
        self.at.clear();
        if self.cancel.is_cancelled() {
            self.last = f64::INFINITY;
            return self.last;
        }
        self.last = match score::record(&self.order, &params::transform(&self.order, x), self.y, self.tape) {
            Some(llf) => {
                self.at.extend_from_slice(x);
                -llf / self.y.len() as f64
            }
            None => f64::INFINITY,
        };
        self.last
    }

    /// The exact score, carried from the constrained parameters to x by
    /// the transform's Jacobian J: ∇_x = J' ∇_θ.
    fn value_and_gradient(&mut self, x: &[f64], g: &mut [f64]) -> Option<f64> {
        let f = if self.at == x { self.last } else { self.value(x) };
        let grad = score::gradient(self.tape)?;
        let jac = params::transform_jacobian(&self.order, x);
        let k = x.len();
        let n = self.y.len() as f64;
        for (a, ga) in g.iter_mut().enumerate() {
            *ga = -(0..k).map(|b| jac[b * k + a] * grad[b]).sum::<f64>() / n;
        }
        (f.is_finite() && g.iter().all(|v| v.is_finite())).then_some(f)
    }
}

/// Whether an MA coefficient ends at the invertibility bound (|θ| ≥ 0.999,
/// for an MA(1) the root on the unit circle).
fn at_invertibility_bound(params: &Params) -> bool {
    params.ma.iter().any(|m| m.abs() >= 0.999)
}

/// Input checks shared by every fit.
pub(crate) fn validate(y: &[f64], order: &Order) -> Result<(), ArimaError> {
    order.validate()?;
    if y.is_empty() {
        return Err(ArimaError::Empty);
    }
    if let Some((index, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(ArimaError::NonFinite { index, value });
    }
    if y.iter().all(|&v| v == y[0]) {
        return Err(ArimaError::Constant { value: y[0] });
    }
    if y.len() <= order.d {
        return Err(ArimaError::OrderTooLarge {
            order: *order,
            n: y.len(),
        });
    }
    Ok(())
}

/// A fitted model: its parameters, fit statistics and what it needs to predict.
#[derive(Debug, Clone)]
pub struct FittedArima {
    order: Order,
    params: Params,
    llf: f64,
    aic: f64,
    converged: bool,
    iterations: usize,
    y: Vec<f64>,
    ss: StateSpace,
    end: FilterEnd,
    /// The one-step predictions, from the same filter pass.
    prediction: Prediction,
    /// The optimiser's final point and inverse Hessian, for [`Arima::refit`].
    search: Option<WarmStart>,
}

/// Point predictions with their variances.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Predicted means.
    pub mean: Array1<f64>,
    /// Prediction variances.
    pub variance: Array1<f64>,
}

impl Prediction {
    /// Two-sided interval at `level` (0.8 gives statsmodels' `conf_int(alpha=0.2)`).
    pub fn interval(&self, level: f64) -> Result<(Array1<f64>, Array1<f64>), ArimaError> {
        let z = z_score(level)?;
        let half = self.variance.mapv(|v| z * v.sqrt());
        Ok((&self.mean - &half, &self.mean + &half))
    }
}

/// Checks that `level` is a two-sided interval level, strictly between 0 and 1.
pub fn check_level(level: f64) -> Result<(), ArimaError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(ArimaError::InvalidLevel(level))
    }
}

/// The normal quantile for a two-sided interval at `level`.
pub(crate) fn z_score(level: f64) -> Result<f64, ArimaError> {
    check_level(level)?;
    Ok(normal_quantile(1.0 - (1.0 - level) / 2.0))
}

impl FittedArima {
    /// Rebuilds a fitted model from stored parameters and the series they
    /// were fitted on (e.g. a model row in the database), without refitting.
    /// Parameters not laid out for `order` are an error, not a panic.
    pub fn from_params(order: Order, params: Params, y: &[f64]) -> Result<FittedArima, ArimaError> {
        validate(y, &order)?;
        params.check_layout(&order)?;
        let ss = StateSpace::new(&order, &params).ok_or(ArimaError::NotStationary { order })?;
        let n = y.len();
        let (mut mean, mut variance) = (Array1::zeros(n), Array1::zeros(n));
        let end = kalman::filter(
            &ss,
            y,
            &mut kalman::Predictions(|t, m, v| {
                mean[t] = m;
                variance[t] = v;
            }),
        )
        .ok_or(ArimaError::FilterBreakdown { order })?;
        if !end.llf.is_finite() {
            return Err(ArimaError::LikelihoodNotFinite {
                order,
                at: "given parameters",
            });
        }
        Ok(FittedArima {
            order,
            aic: -2.0 * end.llf + 2.0 * order.n_params() as f64,
            llf: end.llf,
            params,
            converged: true,
            iterations: 0,
            y: y.to_vec(),
            ss,
            end,
            prediction: Prediction { mean, variance },
            search: None,
        })
    }

    /// The order.
    pub fn order(&self) -> Order {
        self.order
    }
    /// The estimated parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }
    /// Log-likelihood at the estimate (the first d periods burned).
    pub fn loglike(&self) -> f64 {
        self.llf
    }
    /// Akaike information criterion, −2 llf + 2 k.
    pub fn aic(&self) -> f64 {
        self.aic
    }
    /// Whether the likelihood search met its tolerance.
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// Iterations the likelihood search took.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
    /// Number of points the model was fitted on.
    pub fn nobs(&self) -> usize {
        self.y.len()
    }
    /// The series the model was fitted on.
    pub fn data(&self) -> &[f64] {
        &self.y
    }

    /// One-step-ahead in-sample predictions, statsmodels'
    /// `get_prediction()`: for d > 0 the first points are 0 with a huge
    /// (diffuse) variance.
    pub fn in_sample_prediction(&self) -> Prediction {
        self.prediction.clone()
    }

    /// Forecasts `horizon` steps past the end of the data.
    pub fn forecast(&self, horizon: usize) -> Prediction {
        let f = kalman::forecast(&self.ss, &self.end, horizon);
        Prediction {
            mean: f.iter().map(|x| x.0).collect(),
            variance: f.iter().map(|x| x.1).collect(),
        }
    }
}
