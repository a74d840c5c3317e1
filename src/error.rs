//! Every ERROR the extension raises, in one place: a specific SQLSTATE, a
//! message that names the input, and a HINT where one helps. Messages
//! follow Postgres' style (lower case, no final period; hints are sentences).

use arima::ArimaError;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

pub(crate) use pgrx::PgSqlErrorCode::{
    ERRCODE_INVALID_PARAMETER_VALUE as INVALID_PARAMETER, ERRCODE_NULL_VALUE_NOT_ALLOWED as NULL_VALUE,
    ERRCODE_PROGRAM_LIMIT_EXCEEDED as LIMIT_EXCEEDED,
};

/// Raises an ERROR with `code`, `message` and an optional hint.
pub(crate) fn raise(code: PgSqlErrorCode, message: impl Into<String>, hint: Option<&str>) -> ! {
    let mut report = ErrorReport::new(code, message.into(), "airline_anomalies");
    if let Some(hint) = hint {
        report = report.set_hint(hint);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("an ERROR does not return")
}

/// Raises a core error about `what` (for example "series") with the
/// SQLSTATE and hint that fit it. Positions are 1-based, as in SQL arrays.
pub(crate) fn arima(what: &str, e: &ArimaError) -> ! {
    use ArimaError as E;
    let hint = match e {
        E::Empty | E::TooShort { .. } => Some("An ARIMA needs at least 3 values."),
        E::NonFinite { .. } => Some("Remove or fill NaN and Infinity values before modelling."),
        E::Constant { .. } => Some("A constant series has no variance to model."),
        E::OrderTooLarge { .. } => Some("Use a smaller d, or a longer series."),
        E::UnsupportedOrder { .. } => Some("p is at most 20, d at most 2 and q at most 10."),
        E::InvalidLevel(_) => Some("0.8 gives an 80 % band."),
        E::ParamsMismatch { .. } => Some("Pass the jsonb that arima_fit returned, unchanged."),
        E::UnusableStart { .. }
        | E::LikelihoodNotFinite { .. }
        | E::NotStationary { .. }
        | E::FilterBreakdown { .. }
        | E::ForecastNotFinite { .. } => Some("Try a smaller order, or check the series for extreme values."),
        E::NoOrderFits => Some("Try a fixed order (grid_search => false)."),
        E::Cancelled => None,
    };
    let code = match e {
        E::LikelihoodNotFinite { .. } | E::FilterBreakdown { .. } | E::ForecastNotFinite { .. } => {
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE
        }
        E::Cancelled => PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
        _ => INVALID_PARAMETER,
    };
    let message = match e {
        E::NonFinite { index, value } => {
            let value = match *value {
                v if v.is_nan() => "NaN",
                v if v > 0.0 => "Infinity",
                _ => "-Infinity",
            };
            format!("{what}[{}] is {value}", index + 1)
        }
        E::UnsupportedOrder { .. } | E::InvalidLevel(_) | E::Cancelled => e.to_string(),
        _ => format!("cannot model {what}: {e}"),
    };
    raise(code, message, hint)
}

/// Raises an error from an SPI statement of the extension's own, which
/// only fails if its tables were altered under it.
pub(crate) fn spi(doing: &str, e: pgrx::spi::Error) -> ! {
    internal(doing, &e)
}

/// Raises an error that only a changed table or a bug can cause.
pub(crate) fn internal(doing: &str, e: &dyn std::fmt::Display) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
        format!("{doing}: {e}"),
        Some("The extension's tables may have been altered; compare them with a fresh install."),
    )
}
