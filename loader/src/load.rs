//! `loader load`: stream flight files into `flights`, replacing what they
//! cover and nothing else.
//!
//! What a run replaces: a file *covers* each day on which it holds at
//! least 1 % of its average rows per day (so a stray row dated elsewhere
//! covers nothing). A run replaces every row on a day its files cover, and
//! every row loaded earlier from the same files; all other rows stay. So
//! monthly files add up, the same or a corrected month replaces that month,
//! and a whole-year file replaces the year.
//!
//! Each year's rows are encoded in binary COPY format on the parsing thread
//! and COPYed, all years through one connection, into the run's staging
//! table: `airline_partitions.flights_load_<run>`, partitioned by year like
//! `flights`, a partition made when a year's first rows arrive (the COPY is
//! restarted for it, and at each file's end, so no statement lasts longer
//! than one file). A run holds two connections whatever its years: that
//! one, and the main one (its rejects, in a temporary table, and the swap).
//!
//! When every file has been read, one transaction on the main connection
//! takes the years' locks, `pg_advisory_xact_lock(hashtext('airline_anomalies.load'),
//! year)`, all of them, in ascending order, before it touches any year (so
//! two runs over the same years cannot wait on each other in a cycle, and
//! any other wait is between real backends, where Postgres' deadlock
//! detector sees it; `refresh_year` takes the same lock before it reads a
//! year). Then it puts each year in place, records when (`clock_timestamp()`,
//! after the lock) and the rejected rows: a year whose existing days are all
//! covered is swapped in whole (its staging partition becomes the year's
//! partition); otherwise the covered days and the same files' rows are
//! deleted and the staged rows inserted. Until that commit readers see the
//! previous state; a failure leaves it in place and drops the staging
//! table, and a killed run's staging table is dropped by the next run
//! (the main connection holds a session lock on the run's number while it
//! lives, so a leftover's owner is known to be gone).

use std::collections::{BTreeMap, BTreeSet};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::columns::{self, raw_line};
use crate::copy::{self, COPY_COLUMNS};
use crate::inflate::Inflated;
use crate::pg;
use crate::records::{self, Record};
use crate::source::{self, S3};
use anyhow::{Context, Result};
use bytes::{Bytes, BytesMut};
use chrono::{Datelike, NaiveDate};
use futures::SinkExt;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::Client;
use tokio_postgres::CopyInSink;

/// What a run did; printed at the end, as JSON with `--json`.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Summary {
    pub files: usize,
    pub rows_read: u64,
    pub loaded: u64,
    pub rejected: u64,
    pub years: Vec<i32>,
    /// Years replaced whole (every day they had was covered).
    pub swapped: Vec<i32>,
    /// Years where only the covered days and the same files' rows were replaced.
    pub merged: Vec<i32>,
    pub bytes: u64,
    /// Until every row was COPYed (read, decompress, parse, COPY).
    pub copy_seconds: f64,
    /// The whole run: the COPYs, then indexing and the swap.
    pub seconds: f64,
}

/// A row that could not be loaded, kept with where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Reject {
    pub source_file: String,
    pub line: i64,
    pub reason: String,
    pub raw: String,
}

impl Reject {
    /// About what it holds, in bytes.
    fn size(&self) -> usize {
        std::mem::size_of::<Reject>() + self.source_file.len() + self.reason.len() + self.raw.len()
    }
}

/// What the parsing thread sends to the COPY side.
enum Batch {
    /// Encoded rows (binary COPY tuples) of one year.
    Copy {
        year: i32,
        rows: u64,
        data: Bytes,
    },
    Rejects(Vec<Reject>),
}

/// Encoded bytes a year's buffer collects before it is sent.
const CHUNK: usize = 256 * 1024;
/// Most rejects sent at once, and the fewest before the reject ratio may stop a run.
const REJECT_BATCH: usize = 4096;
/// Most bytes of reasons and raw text a batch of rejects holds (each reject's
/// are capped, `columns::MAX_QUOTED`, `columns::MAX_RAW`), so the batches in
/// flight stay a few MiB however the rows are broken.
const REJECT_BATCH_BYTES: usize = 1 << 20;

/// `name` as a quoted identifier. The names here are made from numbers, so
/// nothing could inject through them, but they are quoted all the same.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The first day of `year` and of the year after, as SQL literals.
fn year_bounds(year: i32) -> (String, String) {
    (format!("'{year:04}-01-01'"), format!("'{:04}-01-01'", year + 1))
}

/// The advisory lock key (with the run's number) of a live run's staging table.
const STAGING_LOCK: &str = "hashtext('airline_anomalies.staging')";

/// The run's staging table, partitioned by year, and the one connection
/// that COPYs every row into it.
struct Staging {
    client: Client,
    /// The partitions' schema (a quoted identifier).
    schema: String,
    /// The run's number: its main connection's backend pid.
    run: i32,
    /// The years with a partition, in order.
    years: BTreeSet<i32>,
    /// The COPY under way, if any.
    sink: Option<Pin<Box<CopyInSink<Bytes>>>>,
}

impl Staging {
    /// Connects and creates the run's (empty) staging table.
    async fn create(settings: &pg::Settings, tables: &pg::Schema, schema: &str, run: i32) -> Result<Staging> {
        let staging = Staging {
            client: pg::connect(settings).await?,
            schema: schema.to_string(),
            run,
            years: BTreeSet::new(),
            sink: None,
        };
        let parent = staging.parent();
        // A table of this name is a dead run's (the run's number is a live
        // backend's pid, and this run holds its lock).
        staging
            .client
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS {parent};
                 CREATE TABLE {parent} (LIKE {} INCLUDING DEFAULTS) PARTITION BY RANGE (fl_date);",
                tables.object("flights")
            ))
            .await
            .with_context(|| format!("creating {parent}"))?;
        Ok(staging)
    }

    /// The staging table.
    fn parent(&self) -> String {
        format!("{}.{}", self.schema, ident(&format!("flights_load_{}", self.run)))
    }

    /// The staging table's partition of `year`.
    fn part(&self, year: i32) -> String {
        format!(
            "{}.{}",
            self.schema,
            ident(&format!("flights_load_{}_y{year}", self.run))
        )
    }

    /// COPYs encoded rows of `year`, making its partition first if it is new.
    async fn send(&mut self, year: i32, data: Bytes) -> Result<()> {
        if !self.years.contains(&year) {
            self.end_copy().await?;
            let (part, parent) = (self.part(year), self.parent());
            let (from, to) = year_bounds(year);
            self.client
                .batch_execute(&format!(
                    "CREATE TABLE {part} PARTITION OF {parent} FOR VALUES FROM ({from}) TO ({to})"
                ))
                .await
                .with_context(|| format!("creating {part}"))?;
            self.years.insert(year);
        }
        if self.sink.is_none() {
            let copy = format!("COPY {} ({COPY_COLUMNS}) FROM STDIN BINARY", self.parent());
            let mut sink = Box::pin(self.client.copy_in(copy.as_str()).await?);
            sink.send(Bytes::from_static(copy::HEADER)).await?;
            self.sink = Some(sink);
        }
        self.sink.as_mut().expect("started above").send(data).await?;
        Ok(())
    }

    /// Ends the COPY under way, if any (its rows are then committed in the
    /// staging table, which no other run reads).
    async fn end_copy(&mut self) -> Result<()> {
        if let Some(mut sink) = self.sink.take() {
            sink.send(Bytes::copy_from_slice(&copy::TRAILER)).await?;
            sink.as_mut().finish().await?;
        }
        Ok(())
    }

    /// Prepares a year's filled partition to become `flights`' without a
    /// scan there: the year's CHECK, the indexes `flights_partition` makes.
    async fn prepare(&self, year: i32) -> Result<()> {
        let part = self.part(year);
        let (from, to) = year_bounds(year);
        let check = ident(&format!("flights_y{year}_year"));
        self.client
            .batch_execute(&format!(
                "ALTER TABLE {part} ADD CONSTRAINT {check} CHECK (fl_date >= {from} AND fl_date < {to});
                 SET maintenance_work_mem = '256MB';
                 CREATE INDEX ON {part} (origin, fl_date);
                 CREATE INDEX ON {part} USING brin (fl_date);
                 ANALYZE {part};"
            ))
            .await
            .with_context(|| format!("indexing {part}"))
    }

    /// Gives the run up after a failure: the COPY is aborted and the staging
    /// table dropped. (A broken connection leaves it to the next run.)
    async fn abandon(mut self) {
        drop(self.sink.take());
        let _ = self
            .client
            .batch_execute(&format!("DROP TABLE IF EXISTS {}", self.parent()))
            .await;
    }
}

/// The schema of partitions and staging tables: `airline_partitions`, or
/// the tables' own where it does not exist (a schema made before it).
async fn partitions_schema(client: &Client, tables: &pg::Schema) -> Result<String> {
    let row = client
        .query_one(
            "SELECT CASE WHEN to_regnamespace('airline_partitions') IS NOT NULL THEN 'airline_partitions' END",
            &[],
        )
        .await?;
    Ok(row
        .get::<_, Option<String>>(0)
        .unwrap_or_else(|| tables.name().to_string()))
}

/// Drops the staging tables of runs that are gone (killed, or cut off
/// from the server): those whose run's lock nobody holds. (Not `own`'s:
/// this session holds that lock, so trying it again would succeed.) A
/// table this role may not drop is left, with a warning.
async fn drop_dead_runs(client: &Client, schema: &str, own: i32) -> Result<()> {
    let rows = client
        .query(
            "SELECT pg_catalog.quote_ident(c.relname), substring(c.relname FROM '^flights_load_([0-9]+)$')::int
             FROM pg_class c
             WHERE c.relnamespace = $1::text::regnamespace AND c.relkind = 'p' AND c.relname ~ '^flights_load_[0-9]+$'",
            &[&schema],
        )
        .await
        .context("finding staging tables")?;
    for row in rows {
        let (name, run): (String, i32) = (row.get(0), row.get(1));
        if run == own {
            continue;
        }
        let table = format!("{schema}.{name}");
        let result: Result<()> = async {
            client.batch_execute("BEGIN").await?;
            let gone: bool = client
                .query_one(
                    &format!("SELECT pg_try_advisory_xact_lock({STAGING_LOCK}, $1)"),
                    &[&run],
                )
                .await?
                .get(0);
            if gone {
                client.batch_execute(&format!("DROP TABLE IF EXISTS {table}")).await?;
            }
            client.batch_execute("COMMIT").await?;
            Ok(())
        }
        .await;
        if let Err(e) = result {
            let _ = client.batch_execute("ROLLBACK").await;
            tracing::warn!("leaving {table}, a gone run's staging table: {e:#}");
        }
    }
    Ok(())
}

/// The days a file covers, from its rows per day: those holding at least
/// 1 % of its average rows per day. A stray row dated far from the rest
/// covers nothing.
fn covered_days(rows_per_day: &BTreeMap<NaiveDate, u64>) -> impl Iterator<Item = NaiveDate> + '_ {
    let total: u64 = rows_per_day.values().sum();
    let days = rows_per_day.len().max(1) as u64;
    // n ≥ 1 % of total / days, in integers.
    rows_per_day
        .iter()
        .filter(move |(_, n)| **n * 100 * days >= total)
        .map(|(d, _)| *d)
}

/// Reads one source on a blocking thread, sending encoded rows (per year)
/// and rejects. Returns the rows read and the days the file covers.
fn parse(input: Inflated, name: String, tx: mpsc::Sender<Batch>) -> Result<(u64, Vec<NaiveDate>)> {
    let (mut records, columns) = columns::open(input, &name)?;
    let mut rec = Record::default();
    let mut years: BTreeMap<i32, (BytesMut, u64)> = BTreeMap::new();
    let mut rows_per_day: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let (mut rejects, mut reject_bytes, mut read) = (Vec::new(), 0, 0u64);
    let send = |batch: Batch| {
        tx.blocking_send(batch)
            .map_err(|_| anyhow::anyhow!("the database side stopped"))
    };
    loop {
        let mut reject = |line: u64, reason: String, raw: String| {
            let r = Reject {
                source_file: name.clone(),
                line: line as i64,
                reason,
                raw,
            };
            reject_bytes += r.size();
            rejects.push(r);
        };
        match records.read(&mut rec).with_context(|| format!("{name}: read failed"))? {
            records::Read::End => break,
            records::Read::TooLong { line, bytes } => {
                read += 1;
                reject(line, columns::too_long(bytes), String::new());
            }
            records::Read::Record { line } => {
                read += 1;
                match columns.parse(&rec) {
                    Ok(f) => {
                        *rows_per_day.entry(f.date).or_default() += 1;
                        let year = f.date.year();
                        let (buf, rows) = years
                            .entry(year)
                            .or_insert_with(|| (BytesMut::with_capacity(CHUNK + 1024), 0));
                        copy::encode(buf, &f, &name);
                        *rows += 1;
                        if buf.len() >= CHUNK {
                            send(Batch::Copy {
                                year,
                                rows: std::mem::take(rows),
                                data: buf.split().freeze(),
                            })?;
                        }
                    }
                    Err(reason) => reject(line, reason, raw_line(&rec)),
                }
            }
        }
        if rejects.len() >= REJECT_BATCH || reject_bytes >= REJECT_BATCH_BYTES {
            send(Batch::Rejects(std::mem::take(&mut rejects)))?;
            reject_bytes = 0;
        }
    }
    for (year, (mut buf, rows)) in years {
        if rows > 0 {
            send(Batch::Copy {
                year,
                rows,
                data: buf.split().freeze(),
            })?;
        }
    }
    send(Batch::Rejects(rejects))?;
    Ok((read, covered_days(&rows_per_day).collect()))
}

/// Options of `loader load`.
pub(crate) struct LoadOptions {
    pub sources: Vec<String>,
    pub endpoint_url: Option<String>,
    pub max_reject_ratio: f64,
    pub then_refresh: bool,
    /// Whether that refresh refits (`refresh_year(year, refit => ...)`).
    pub refit: bool,
}

/// Runs a whole load; see the module documentation.
pub(crate) async fn run(opts: &LoadOptions, progress: &indicatif::ProgressBar) -> Result<Summary> {
    let start = Instant::now();
    let config = pg::config()?;
    let (main, tables) = pg::open_tables(&config).await?;
    let s3 = S3::new(opts.endpoint_url.clone());
    let sources = source::expand(&opts.sources, &s3).await?;
    let files: Vec<String> = sources.iter().map(ToString::to_string).collect();
    let bytes = Arc::new(AtomicU64::new(0));
    // The run's number, locked for as long as the run lives (see drop_dead_runs).
    let run: i32 = main.query_one("SELECT pg_backend_pid()", &[]).await?.get(0);
    main.execute(&format!("SELECT pg_advisory_lock({STAGING_LOCK}, $1)"), &[&run])
        .await?;
    let schema = partitions_schema(&main, &tables).await?;
    drop_dead_runs(&main, &schema, run).await?;
    let mut staging = Staging::create(&config, &tables, &schema, run).await?;
    let mut rejects = RejectLog::open(&main).await?;
    let mut covered: BTreeMap<i32, BTreeSet<NaiveDate>> = BTreeMap::new();
    let mut summary = Summary {
        files: sources.len(),
        ..Summary::default()
    };
    let too_many = |rejected: u64, read: u64| read > 0 && rejected as f64 > opts.max_reject_ratio * read as f64;
    let refusal = |rejected: u64, read: u64, when: &str| {
        anyhow::Error::new(crate::Refused(format!(
            "{rejected} of {read} rows rejected{when} ({:.2} %, above --max-reject-ratio {:.2} %); nothing replaced, rejects kept in flight_rejects",
            100.0 * rejected as f64 / read as f64,
            100.0 * opts.max_reject_ratio
        )))
    };

    let result: Result<()> = async {
        for src in &sources {
            let name = src.to_string();
            progress.set_message(name.clone());
            let input = source::open(src, &s3, bytes.clone()).await?;
            let (tx, mut rx) = mpsc::channel::<Batch>(8);
            let parser = tokio::task::spawn_blocking({
                let name = name.clone();
                move || parse(input, name, tx)
            });
            while let Some(batch) = rx.recv().await {
                match batch {
                    Batch::Copy { year, rows, data } => {
                        staging.send(year, data).await?;
                        summary.loaded += rows;
                    }
                    Batch::Rejects(batch) => {
                        rejects.write(&main, &batch).await?;
                        // Checked as the run goes: a file of garbage stops early
                        // (dropping rx stops the parser and the inflating thread).
                        let seen = summary.loaded + rejects.count;
                        if rejects.count >= REJECT_BATCH as u64 && too_many(rejects.count, seen) {
                            return Err(refusal(rejects.count, seen, " so far, stopped early"));
                        }
                    }
                }
                progress.set_position(summary.loaded + rejects.count);
            }
            let (read, days) = parser.await.context("parser thread")??;
            summary.rows_read += read;
            for day in days {
                covered.entry(day.year()).or_default().insert(day);
            }
            // One file, one statement each (the role's statement_timeout).
            staging.end_copy().await?;
            rejects.finish().await?;
        }
        if too_many(rejects.count, summary.rows_read) {
            return Err(refusal(rejects.count, summary.rows_read, ""));
        }
        Ok(())
    }
    .await;
    summary.rejected = rejects.count;
    summary.bytes = bytes.load(Ordering::Relaxed);
    summary.years = staging.years.iter().copied().collect();

    let result = match result {
        Ok(()) => {
            summary.copy_seconds = start.elapsed().as_secs_f64();
            put_in_place(&main, &tables, &staging, &mut summary, &files, &covered).await
        }
        Err(e) => {
            // The rejects are kept even when the load is refused: they say why.
            if rejects.finish().await.is_ok() {
                let _ = record_rejects(&main, &tables, &files).await;
            }
            Err(e)
        }
    };
    if let Err(e) = result {
        staging.abandon().await;
        return Err(e);
    }
    if opts.then_refresh {
        for year in &summary.years {
            progress.set_message(format!("refresh_year({year})"));
            // The plain call when refitting, which 0.1.0's refresh_year also takes.
            let call = if opts.refit {
                format!("SELECT * FROM {}($1)", tables.object("refresh_year"))
            } else {
                format!("SELECT * FROM {}($1, refit => false)", tables.object("refresh_year"))
            };
            main.execute(&call, &[year])
                .await
                .with_context(|| format!("refresh_year({year})"))?;
        }
    }
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// What a run does with one year: swap its staging partition in whole, or
/// merge it over the days its files cover.
struct YearPlan {
    year: i32,
    days: Vec<NaiveDate>,
    /// Whether the staging partition was made ready to be swapped in.
    prepared: bool,
}

/// Plans each year, prepares the partitions likely to be swapped in whole
/// (outside the transaction, so the locks are held briefly), then swaps.
async fn put_in_place(
    main: &Client,
    tables: &pg::Schema,
    staging: &Staging,
    summary: &mut Summary,
    files: &[String],
    covered: &BTreeMap<i32, BTreeSet<NaiveDate>>,
) -> Result<()> {
    let mut plan = Vec::new();
    for &year in &staging.years {
        let days: Vec<NaiveDate> = covered
            .get(&year)
            .map(|d| d.iter().copied().collect())
            .unwrap_or_default();
        // Only a staging partition that becomes the year's is indexed. The
        // year may change before the locks are taken: swap_in decides again.
        let prepared = covers_every_day(main, tables, year, &days).await?;
        if prepared {
            staging.prepare(year).await?;
        }
        plan.push(YearPlan { year, days, prepared });
    }
    if plan.iter().any(|p| p.prepared) {
        wait_for_older_transactions(main).await?;
    }
    swap_in(main, tables, staging, summary, files, &plan).await
}

/// A swap is not MVCC-safe (Postgres' caveat for TRUNCATE and partition
/// swaps): a REPEATABLE READ transaction whose snapshot predates the staged
/// rows, and that first reads `flights` after the swap, would see the year
/// empty. So, as CREATE INDEX CONCURRENTLY does, the run first waits until
/// every transaction of this database open now (the staged rows are
/// committed, and this run holds no transaction) has ended; one that has
/// read `flights` already makes the swap's lock wait for it anyway.
/// `pg_locks` shows every session's transaction to any role. The wait is
/// a lock wait in all but name: it ends with the session's `lock_timeout`
/// (10 minutes when that is 0, so a forgotten session cannot hold a load
/// forever).
async fn wait_for_older_transactions(client: &Client) -> Result<()> {
    let ms: f64 = client
        .query_one(
            "SELECT extract(epoch FROM current_setting('lock_timeout')::interval)::float8 * 1000",
            &[],
        )
        .await?
        .get(0);
    let limit = if ms > 0.0 {
        Duration::from_millis(ms as u64)
    } else {
        Duration::from_secs(600)
    };
    let older: Vec<String> = client
        .query_one(
            "SELECT coalesce(array_agg(l.virtualxid), '{}') FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'virtualxid' AND l.granted AND l.pid <> pg_backend_pid()
               AND a.datid = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .await
        .context("listing the transactions older than the staged rows")?
        .get(0);
    let start = Instant::now();
    loop {
        let open: Vec<i32> = client
            .query_one(
                "SELECT coalesce(array_agg(pid ORDER BY pid), '{}') FROM pg_locks
                 WHERE locktype = 'virtualxid' AND virtualxid = ANY ($1)",
                &[&older],
            )
            .await?
            .get(0);
        if open.is_empty() {
            return Ok(());
        }
        if start.elapsed() > limit {
            anyhow::bail!(
                "lock timeout: {} transactions older than the staged rows are still open after {:.1} s (pids {open:?}); \
                 a swap would show them the year empty: end them, or load again",
                open.len(),
                limit.as_secs_f64()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The atomic part, in one transaction: the years' locks, in ascending
/// order before anything else; every loaded year put in place (swapped in
/// whole, or merged over the covered days and the same files' rows) and
/// recorded in flight_years; the rejects recorded; the staging table dropped.
async fn swap_in(
    client: &Client,
    tables: &pg::Schema,
    staging: &Staging,
    summary: &mut Summary,
    files: &[String],
    plan: &[YearPlan],
) -> Result<()> {
    let record = pg::records_years(client, tables).await?;
    let writer: bool = client
        .query_one(
            "SELECT CASE WHEN to_regrole('airline_writer') IS NULL THEN false
                         ELSE pg_has_role('airline_writer', 'MEMBER') END",
            &[],
        )
        .await?
        .get(0);
    client.batch_execute("BEGIN").await?;
    let result: Result<()> = async {
        // `plan` is in ascending year order (staging.years is a BTreeSet).
        for p in plan {
            client
                .execute(summary::sql::LOCK_YEAR, &[&p.year])
                .await
                .with_context(|| format!("waiting for another load or refresh of {} to commit", p.year))?;
        }
        // Swaps of other years wait here, so no two runs upgrade a lock on
        // flights against each other; readers wait only for a swap in whole.
        let mode = if plan.iter().any(|p| p.prepared) {
            "ACCESS EXCLUSIVE"
        } else {
            "SHARE UPDATE EXCLUSIVE"
        };
        client
            .batch_execute(&format!("LOCK TABLE {} IN {mode} MODE", tables.object("flights")))
            .await
            .context("waiting for another load to commit")?;
        for p in plan {
            // Decided again under the lock. A year merged where a swap would
            // do (it changed since the plan) ends up the same.
            if p.prepared && covers_every_day(client, tables, p.year, &p.days).await? {
                swap(client, tables, staging, p.year, writer).await?;
                summary.swapped.push(p.year);
            } else {
                merge(client, tables, staging, p.year, &p.days, files).await?;
                summary.merged.push(p.year);
            }
            if record {
                client
                    .execute(&tables.statement(summary::sql::MARK_LOADED), &[&p.year])
                    .await
                    .context("recording the load in flight_years")?;
            }
        }
        record_rejects(client, tables, files).await?;
        client
            .batch_execute(&format!("DROP TABLE {}", staging.parent()))
            .await
            .context("dropping the staging table")
    }
    .await;
    match result {
        Ok(()) => client.batch_execute("COMMIT").await.context("committing the load"),
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// Whether `days` include every day of `year` in `flights` (true when it
/// has none).
async fn covers_every_day(client: &Client, tables: &pg::Schema, year: i32, days: &[NaiveDate]) -> Result<bool> {
    let (from, to) = year_bounds(year);
    let row = client
        .query_one(
            &format!(
                "SELECT NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT fl_date FROM {}
                                                   WHERE fl_date >= {from} AND fl_date < {to}) d
                                    WHERE NOT (d.fl_date = ANY ($1)))",
                tables.object("flights")
            ),
            &[&days],
        )
        .await
        .with_context(|| format!("reading the days of {year}"))?;
    Ok(row.get(0))
}

/// The year's partition of `flights`, schema-qualified, if it has one.
async fn live_partition(client: &Client, tables: &pg::Schema, year: i32) -> Result<Option<String>> {
    let row = client
        .query_opt(
            "SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = $1::text::regclass AND c.relname = $2",
            &[&tables.object("flights"), &format!("flights_y{year}")],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// The whole year: the staging partition becomes the year's partition.
async fn swap(client: &Client, tables: &pg::Schema, staging: &Staging, year: i32, writer: bool) -> Result<()> {
    let (flights, part) = (tables.object("flights"), staging.part(year));
    let name = format!("flights_y{year}");
    let live = format!("{}.{}", staging.schema, ident(&name));
    let (from, to) = year_bounds(year);
    let mut sql = format!("ALTER TABLE {} DETACH PARTITION {part};", staging.parent());
    if let Some(old) = live_partition(client, tables, year).await? {
        sql += &format!("ALTER TABLE {flights} DETACH PARTITION {old}; DROP TABLE {old};");
    }
    sql += &format!(
        "ALTER TABLE {part} RENAME TO {};
         ALTER TABLE {flights} ATTACH PARTITION {live} FOR VALUES FROM ({from}) TO ({to});",
        ident(&name)
    );
    if writer {
        // Under the extension's roles, every writer may replace it next time.
        sql += &format!("ALTER TABLE {live} OWNER TO airline_writer;");
    }
    client
        .batch_execute(&sql)
        .await
        .with_context(|| format!("swapping in {year}"))
}

/// Part of a year: the covered days and the rows of the same files are
/// replaced by the staged rows; readers see the old rows until the commit.
async fn merge(
    client: &Client,
    tables: &pg::Schema,
    staging: &Staging,
    year: i32,
    days: &[NaiveDate],
    files: &[String],
) -> Result<()> {
    let live = match live_partition(client, tables, year).await? {
        Some(live) => live,
        // None since the plan: made as flights_partition makes it.
        None => client
            .query_one(
                &format!("SELECT {}($1)::text", tables.object("flights_partition")),
                &[&year],
            )
            .await
            .with_context(|| format!("creating the partition of {year}"))?
            .get(0),
    };
    client
        .execute(
            &format!("DELETE FROM {live} WHERE fl_date = ANY ($1) OR source_file = ANY ($2)"),
            &[&days, &files],
        )
        .await
        .with_context(|| format!("replacing the covered days of {year}"))?;
    client
        .batch_execute(&format!(
            "INSERT INTO {live} ({COPY_COLUMNS}) SELECT {COPY_COLUMNS} FROM {}",
            staging.part(year)
        ))
        .await
        .with_context(|| format!("adding the rows of {year}"))
}

/// Rejected rows on their way to `flight_rejects`: COPYed into a temporary
/// table as they come (one COPY per file), so a run never holds them all,
/// and moved in with the load (or on their own when the load is refused).
struct RejectLog {
    writer: Option<Pin<Box<BinaryCopyInWriter>>>,
    count: u64,
}

impl RejectLog {
    async fn open(client: &Client) -> Result<RejectLog> {
        client
            .batch_execute(
                "CREATE TEMPORARY TABLE pg_temp.load_rejects (source_file text, line bigint, reason text, raw text)",
            )
            .await
            .context("creating the temporary rejects table")?;
        Ok(RejectLog { writer: None, count: 0 })
    }

    async fn write(&mut self, client: &Client, batch: &[Reject]) -> Result<()> {
        if self.writer.is_none() {
            let sink = client.copy_in("COPY pg_temp.load_rejects FROM STDIN BINARY").await?;
            let writer = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::INT8, Type::TEXT, Type::TEXT]);
            self.writer = Some(Box::pin(writer));
        }
        let writer = self.writer.as_mut().expect("started above");
        for r in batch {
            writer
                .as_mut()
                .write(&[&r.source_file, &r.line, &r.reason, &r.raw])
                .await
                .context("recording rejects")?;
        }
        self.count += batch.len() as u64;
        Ok(())
    }

    /// Ends the COPY under way, if any.
    async fn finish(&mut self) -> Result<()> {
        if let Some(mut writer) = self.writer.take() {
            writer.as_mut().finish().await.context("recording rejects")?;
        }
        Ok(())
    }
}

/// Replaces the rejects recorded for these files by this run's.
async fn record_rejects(client: &Client, tables: &pg::Schema, files: &[String]) -> Result<()> {
    let table = tables.object("flight_rejects");
    client
        .execute(&format!("DELETE FROM {table} WHERE source_file = ANY ($1)"), &[&files])
        .await?;
    client
        .batch_execute(&format!(
            "INSERT INTO {table} (source_file, line, reason, raw)
             SELECT source_file, line, reason, raw FROM pg_temp.load_rejects"
        ))
        .await
        .context("recording rejects")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2013, m, d).unwrap()
    }

    #[test]
    fn a_stray_row_covers_nothing_and_quiet_days_are_covered() {
        let mut rows: BTreeMap<NaiveDate, u64> = (1..=28).map(|d| (day(2, d), 1000)).collect();
        rows.insert(day(2, 14), 300); // a quiet day still counts
        rows.insert(NaiveDate::from_ymd_opt(2014, 7, 4).unwrap(), 1); // a stray row
        let covered: Vec<NaiveDate> = covered_days(&rows).collect();
        assert_eq!(covered.len(), 28);
        assert!(covered.iter().all(|d| d.year() == 2013));
        assert!(covered.contains(&day(2, 14)));
    }

    #[test]
    fn a_single_day_file_covers_its_day() {
        let rows = BTreeMap::from([(day(3, 1), 17)]);
        assert_eq!(covered_days(&rows).collect::<Vec<_>>(), [day(3, 1)]);
        assert_eq!(covered_days(&BTreeMap::new()).count(), 0);
    }
}
