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
/// SQLSTATE and hint that fit it.
pub(crate) fn arima(what: &str, e: &ArimaError) -> ! {
    use ArimaError as E;
    let (code, hint) = match e {
        E::Empty | E::TooShort { .. } => (INVALID_PARAMETER, Some("An ARIMA needs at least 3 values.")),
        E::NonFinite { .. } => (
            INVALID_PARAMETER,
            Some("Remove or fill NaN and Infinity values before modelling."),
        ),
        E::Constant { .. } => (INVALID_PARAMETER, Some("A constant series has no variance to model.")),
        E::OrderTooLarge { .. } => (INVALID_PARAMETER, Some("Use a smaller d, or a longer series.")),
        E::UnsupportedOrder { .. } => (INVALID_PARAMETER, Some("p is at most 20, d at most 2 and q at most 10.")),
        E::InvalidLevel(_) => (INVALID_PARAMETER, Some("0.8 gives an 80 % band.")),
        E::NonFiniteLikelihood { .. } => (
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
            Some("Try a smaller order, or check the series for extreme values."),
        ),
        E::NoOrderFits => (INVALID_PARAMETER, Some("Try a fixed order (grid_search => false).")),
        E::Cancelled => (PgSqlErrorCode::ERRCODE_QUERY_CANCELED, None),
    };
    raise(code, format!("cannot model {what}: {e}"), hint)
}

/// Raises an error from an SPI statement of the extension's own, which
/// only fails if its tables were altered under it.
pub(crate) fn spi(doing: &str, e: pgrx::spi::Error) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
        format!("{doing}: {e}"),
        Some("The extension's tables may have been altered; compare them with a fresh install."),
    )
}
