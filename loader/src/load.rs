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
//! and COPYed into a staging table (`flights_load_YYYY`, created `LIKE
//! flights`) on a connection of its own. When every file has been read, one
//! transaction puts each year in place and records the rejected rows: a
//! year whose existing days are all covered is swapped in whole (the staging
//! table becomes the partition); otherwise the covered days and the same
//! files' rows are deleted and the staging rows inserted. Until that commit
//! readers see the previous state; a failure or kill before it leaves it in
//! place (a leftover staging table is dropped by the next run of that year).

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

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

/// One year being loaded: its connection and COPY stream into the staging table.
struct Stage {
    client: Client,
    sink: Pin<Box<CopyInSink<Bytes>>>,
}

/// `name` as a quoted identifier. The names here are made from a year, so
/// nothing could inject through them, but they are quoted all the same.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The staging table a year is loaded into.
fn staging(year: i32) -> String {
    ident(&format!("flights_load_{year}"))
}

/// The year's partition of `flights`.
fn partition(year: i32) -> String {
    ident(&format!("flights_y{year}"))
}

impl Stage {
    async fn open(config: &pg::Settings, year: i32) -> Result<Stage> {
        let client = pg::connect(config).await?;
        let table = staging(year);
        // One loader per year at a time; the lock goes with the connection.
        client
            .execute(
                "SELECT pg_advisory_lock(hashtext('airline_anomalies.load'), $1)",
                &[&year],
            )
            .await?;
        client
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS {table};
                 CREATE TABLE {table} (LIKE flights INCLUDING DEFAULTS);"
            ))
            .await
            .with_context(|| format!("creating {table}"))?;
        let mut sink = Box::pin(
            client
                .copy_in(&format!("COPY {table} ({COPY_COLUMNS}) FROM STDIN BINARY"))
                .await?,
        );
        sink.send(Bytes::from_static(copy::HEADER)).await?;
        Ok(Stage { client, sink })
    }

    /// Gives the year up after a failure: the COPY is aborted and the staging
    /// table dropped on this connection, still holding the year's lock, so a
    /// run waiting for that lock never loses its own table. (A broken
    /// connection leaves the table to the next run of the year, which drops it.)
    async fn abandon(self, year: i32) {
        let Stage { client, sink } = self;
        drop(sink);
        let _ = client
            .batch_execute(&format!("DROP TABLE IF EXISTS {}", staging(year)))
            .await;
    }

    /// Ends the COPY (the rows are then committed in the staging table).
    async fn end_copy(mut self) -> Result<Client> {
        self.sink.send(Bytes::copy_from_slice(&copy::TRAILER)).await?;
        self.sink.as_mut().finish().await?;
        Ok(self.client)
    }
}

/// Prepares a filled staging table to be attached without a scan.
async fn prepare(client: &Client, year: i32) -> Result<()> {
    let table = staging(year);
    let (from, to) = (format!("{year}-01-01"), format!("{}-01-01", year + 1));
    let check = ident(&format!("flights_load_{year}_year"));
    client
        .batch_execute(&format!(
            "ALTER TABLE {table} ADD CONSTRAINT {check} CHECK (fl_date >= '{from}' AND fl_date < '{to}');
                 SET maintenance_work_mem = '256MB';
                 CREATE INDEX ON {table} (origin, fl_date);
                 CREATE INDEX ON {table} USING brin (fl_date);
                 ANALYZE {table};"
        ))
        .await
        .with_context(|| format!("indexing {table}"))?;
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
    let main = pg::connect(&config).await?;
    pg::require_schema(&main).await?;
    let s3 = S3::new(opts.endpoint_url.clone());
    let sources = source::expand(&opts.sources, &s3).await?;
    let files: Vec<String> = sources.iter().map(ToString::to_string).collect();
    let bytes = Arc::new(AtomicU64::new(0));
    let mut stages: BTreeMap<i32, Stage> = BTreeMap::new();
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
                        let stage = match stages.entry(year) {
                            Entry::Occupied(e) => e.into_mut(),
                            Entry::Vacant(e) => e.insert(Stage::open(&config, year).await?),
                        };
                        stage.sink.send(data).await?;
                        summary.loaded += rows;
                    }
                    Batch::Rejects(batch) => {
                        rejects.write(&batch).await?;
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
        }
        if too_many(rejects.count, summary.rows_read) {
            return Err(refusal(rejects.count, summary.rows_read, ""));
        }
        Ok(())
    }
    .await;
    summary.rejected = rejects.count;
    summary.bytes = bytes.load(Ordering::Relaxed);
    summary.years = stages.keys().copied().collect();

    match result {
        Ok(()) => {
            rejects.finish().await?;
            let mut finished = Vec::new();
            for (year, stage) in std::mem::take(&mut stages) {
                finished.push((year, stage.end_copy().await?));
            }
            summary.copy_seconds = start.elapsed().as_secs_f64();
            // Swap or merge, decided now: each year's lock (held by its stage
            // connection) keeps other loads from changing it until the commit.
            // Only a staging table that becomes the partition is indexed.
            let mut plan = Vec::new();
            for (year, client) in &finished {
                let days: Vec<NaiveDate> = covered
                    .get(year)
                    .map(|d| d.iter().copied().collect())
                    .unwrap_or_default();
                let whole = covers_every_day(&main, *year, &days).await?;
                if whole {
                    prepare(client, *year).await?;
                }
                plan.push(YearPlan {
                    year: *year,
                    days,
                    whole,
                });
            }
            swap_in(&main, &mut summary, &files, &plan).await?;
            drop(finished); // releases the per-year locks
        }
        Err(e) => {
            for (year, stage) in std::mem::take(&mut stages) {
                stage.abandon(year).await;
            }
            // The rejects are kept even when the load is refused: they say why.
            if rejects.finish().await.is_ok() {
                let _ = record_rejects(&main, &files).await;
            }
            return Err(e);
        }
    }
    if opts.then_refresh {
        for year in &summary.years {
            progress.set_message(format!("refresh_year({year})"));
            // The plain call when refitting, which 0.1.0's refresh_year also takes.
            let call = if opts.refit {
                "SELECT refresh_year($1)"
            } else {
                "SELECT refresh_year($1, refit => false)"
            };
            main.execute(call, &[year])
                .await
                .with_context(|| format!("refresh_year({year})"))?;
        }
    }
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// What a run does with one year: swap its staging table in whole, or
/// merge it over the days its files cover.
struct YearPlan {
    year: i32,
    days: Vec<NaiveDate>,
    whole: bool,
}

/// The atomic part, in one transaction: every loaded year is put in place
/// (swapped in whole, or merged over the covered days and the same files'
/// rows), and the rejects are recorded.
async fn swap_in(client: &Client, summary: &mut Summary, files: &[String], plan: &[YearPlan]) -> Result<()> {
    let record = pg::records_years(client).await?;
    client.batch_execute("BEGIN").await?;
    let result: Result<()> = async {
        for p in plan {
            if p.whole {
                swap(client, p.year).await?;
                summary.swapped.push(p.year);
            } else {
                merge(client, p.year, &p.days, files).await?;
                summary.merged.push(p.year);
            }
            if record {
                client
                    .execute(summary::sql::MARK_LOADED, &[&p.year])
                    .await
                    .context("recording the load in flight_years")?;
            }
        }
        record_rejects(client, files).await
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

/// Whether `days` include every day the year's partition has (true when
/// it has none or does not exist).
async fn covers_every_day(client: &Client, year: i32, days: &[NaiveDate]) -> Result<bool> {
    let live = partition(year);
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&live])
        .await?
        .get(0);
    if !exists {
        return Ok(true);
    }
    let row = client
        .query_one(
            &format!(
                "SELECT NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT fl_date FROM {live}) d
                                    WHERE NOT (d.fl_date = ANY ($1)))"
            ),
            &[&days],
        )
        .await
        .with_context(|| format!("reading the days of {live}"))?;
    Ok(row.get(0))
}

/// The whole year: the staging table becomes the year's partition.
async fn swap(client: &Client, year: i32) -> Result<()> {
    let (live, table) = (partition(year), staging(year));
    let (from, to) = (format!("{year}-01-01"), format!("{}-01-01", year + 1));
    client
        .batch_execute(&format!(
            "LOCK TABLE flights IN ACCESS EXCLUSIVE MODE;
             DO $$ BEGIN
                 IF to_regclass('{live}') IS NOT NULL THEN
                     ALTER TABLE flights DETACH PARTITION {live};
                     DROP TABLE {live};
                 END IF;
             END $$;
             ALTER TABLE {table} RENAME TO {live};
             ALTER TABLE flights ATTACH PARTITION {live} FOR VALUES FROM ('{from}') TO ('{to}');
             -- Under the extension's roles, every writer may replace it next time.
             DO $$ BEGIN
                 IF to_regrole('airline_writer') IS NOT NULL AND pg_has_role('airline_writer', 'MEMBER') THEN
                     ALTER TABLE {live} OWNER TO airline_writer;
                 END IF;
             END $$;"
        ))
        .await
        .with_context(|| format!("swapping in {year}"))
}

/// Part of a year: the covered days and the rows of the same files are
/// replaced by the staged rows; readers see the old rows until the commit.
async fn merge(client: &Client, year: i32, days: &[NaiveDate], files: &[String]) -> Result<()> {
    let (live, table) = (partition(year), staging(year));
    client
        .execute(
            &format!("DELETE FROM {live} WHERE fl_date = ANY ($1) OR source_file = ANY ($2)"),
            &[&days, &files],
        )
        .await
        .with_context(|| format!("replacing the covered days of {year}"))?;
    client
        .batch_execute(&format!(
            "INSERT INTO {live} ({COPY_COLUMNS}) SELECT {COPY_COLUMNS} FROM {table}; DROP TABLE {table};"
        ))
        .await
        .with_context(|| format!("adding the rows of {year}"))
}

/// Rejected rows on their way to `flight_rejects`: COPYed into a temporary
/// table as they come, so a run never holds them all, and moved in with the
/// load (or on their own when the load is refused).
struct RejectLog {
    writer: Pin<Box<BinaryCopyInWriter>>,
    count: u64,
}

impl RejectLog {
    async fn open(client: &Client) -> Result<RejectLog> {
        client
            .batch_execute("CREATE TEMPORARY TABLE load_rejects (source_file text, line bigint, reason text, raw text)")
            .await
            .context("creating the temporary rejects table")?;
        let sink = client.copy_in("COPY pg_temp.load_rejects FROM STDIN BINARY").await?;
        let writer = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::INT8, Type::TEXT, Type::TEXT]);
        Ok(RejectLog {
            writer: Box::pin(writer),
            count: 0,
        })
    }

    async fn write(&mut self, batch: &[Reject]) -> Result<()> {
        for r in batch {
            self.writer
                .as_mut()
                .write(&[&r.source_file, &r.line, &r.reason, &r.raw])
                .await
                .context("recording rejects")?;
        }
        self.count += batch.len() as u64;
        Ok(())
    }

    async fn finish(&mut self) -> Result<()> {
        self.writer.as_mut().finish().await.context("recording rejects")?;
        Ok(())
    }
}

/// Replaces the rejects recorded for these files by this run's.
async fn record_rejects(client: &Client, files: &[String]) -> Result<()> {
    client
        .execute("DELETE FROM flight_rejects WHERE source_file = ANY ($1)", &[&files])
        .await?;
    client
        .batch_execute(
            "INSERT INTO flight_rejects (source_file, line, reason, raw)
             SELECT source_file, line, reason, raw FROM pg_temp.load_rejects",
        )
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
