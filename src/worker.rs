//! Running core work off the backend thread while honouring query cancel.
//!
//! Postgres may only be called from the backend thread, and a cancel
//! (pg_cancel_backend, statement_timeout) is only noticed where the
//! backend checks for interrupts. So the work runs on a worker thread
//! (which uses the extension's rayon pool for parallelism) while the
//! backend thread waits and polls the cancel flags; on a cancel it raises
//! the core's `Cancel`, waits for the workers to stop at their next check,
//! then lets Postgres raise its usual ERROR here, on the backend thread.

use std::sync::OnceLock;
use std::time::Duration;

use arima::Cancel;
use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::{pg_sys, PgSqlErrorCode};

use crate::error::raise;

/// Worker threads block every signal, so Postgres' handlers only ever run
/// on the backend thread.
fn block_signals() {
    // SAFETY: plain libc calls on a local, fully initialised sigset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// `airline_anomalies.max_threads`: the worker threads one backend may use,
/// so one caller's grid search cannot take every core of the host. Only a
/// superuser sets it (`ALTER ROLE ... SET`, `ALTER DATABASE ... SET`,
/// postgresql.conf); a backend reads it once, when it first needs workers.
static MAX_THREADS: GucSetting<i32> = GucSetting::<i32>::new(2);

/// Registers the extension's settings (at library load).
pub(crate) fn define_settings() {
    GucRegistry::define_int_guc(
        c"airline_anomalies.max_threads",
        c"Worker threads one backend may use to fit models.",
        c"Read once per backend, when it first fits; a superuser may set it per role or database.",
        &MAX_THREADS,
        1,
        256,
        GucContext::Suset,
        GucFlags::default(),
    );
}

fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(MAX_THREADS.get().max(1) as usize)
            .thread_name(|i| format!("airline_anomalies-{i}"))
            .start_handler(|_| block_signals())
            .build()
            .unwrap_or_else(|e| {
                raise(
                    PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
                    format!("cannot start worker threads: {e}"),
                    None,
                )
            })
    })
}

fn cancel_requested() -> bool {
    // SAFETY: reads of flags Postgres' signal handlers set; the backend is single-threaded
    // with respect to them and a stale read only delays the cancel by one poll.
    unsafe { pg_sys::QueryCancelPending != 0 || pg_sys::ProcDiePending != 0 }
}

/// Runs `work` on the worker pool; returns its result, or raises
/// Postgres' cancel/timeout ERROR if the query was cancelled meanwhile.
pub(crate) fn run<T: Send>(work: impl FnOnce(&Cancel) -> T + Send) -> T {
    let cancel = Cancel::default();
    let pool = pool(); // on the backend thread: it reads a setting
    let result = std::thread::scope(|s| {
        let handle = s.spawn(|| {
            block_signals();
            pool.install(|| work(&cancel))
        });
        while !handle.is_finished() {
            if !cancel.is_cancelled() && cancel_requested() {
                cancel.cancel();
            }
            std::thread::park_timeout(Duration::from_millis(5));
        }
        handle.join()
    });
    // Raises the pending cancel or timeout as an ERROR, if there is one.
    pg_sys::check_for_interrupts!();
    match result {
        Ok(v) if !cancel.is_cancelled() => v,
        Ok(_) => raise(
            PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
            "canceling statement: work stopped at a cancel request",
            None,
        ),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}
