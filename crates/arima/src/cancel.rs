//! Stopping long work from another thread: the extension raises the flag
//! when Postgres asks a query to cancel; a fit checks it at every
//! likelihood evaluation, the grid search and batch detection between fits.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::ArimaError;

/// A flag that, once raised, makes long-running calls return
/// [`ArimaError::Cancelled`] at their next check.
#[derive(Debug, Default)]
pub struct Cancel(AtomicBool);

impl Cancel {
    /// A flag no one raises, for calls that cannot be cancelled.
    pub(crate) fn never() -> &'static Cancel {
        static NEVER: Cancel = Cancel(AtomicBool::new(false));
        &NEVER
    }

    /// Raises the flag.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the flag is raised.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn check(&self) -> Result<(), ArimaError> {
        if self.is_cancelled() {
            Err(ArimaError::Cancelled)
        } else {
            Ok(())
        }
    }
}
