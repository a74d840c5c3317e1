//! The Postgres side: connecting and the schema. The statements shared
//! with the extension are in the `summary` crate.

use anyhow::{anyhow, bail, Context, Result};
use tokio_postgres::{Client, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::tls;

/// Where and how to connect: the driver's settings and the TLS connector.
#[derive(Clone)]
pub(crate) struct Settings {
    config: Config,
    tls: MakeRustlsConnect,
}

/// Connection settings from `DATABASE_URL`, else the usual `PG*` variables;
/// TLS by libpq's `sslmode` rules (see [`crate::tls`]).
pub(crate) fn config() -> Result<Settings> {
    let (mut config, split) = match std::env::var("DATABASE_URL") {
        Ok(url) => {
            let split = tls::split(&url);
            let config = split
                .rest
                .parse()
                .map_err(|e| anyhow!("DATABASE_URL is not a valid connection string: {e}"))?;
            (config, split)
        }
        Err(_) => (from_env()?, tls::Split::default()),
    };
    let (mode, tls) = tls::connector(split.sslmode, split.sslrootcert)?;
    config.ssl_mode(mode);
    Ok(Settings { config, tls })
}

fn from_env() -> Result<Config> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut c = Config::new();
    c.host(env("PGHOST").as_deref().unwrap_or("/var/run/postgresql"));
    if let Some(port) = env("PGPORT") {
        c.port(
            port.parse()
                .map_err(|_| anyhow!("PGPORT is not a port number: {port}"))?,
        );
    }
    let user = env("PGUSER")
        .or_else(|| env("USER"))
        .unwrap_or_else(|| "postgres".into());
    c.dbname(env("PGDATABASE").as_deref().unwrap_or(&user));
    c.user(&user);
    if let Some(pw) = env("PGPASSWORD") {
        c.password(pw);
    }
    c.application_name("loader");
    Ok(c)
}

/// A new connection, its driver task spawned.
pub(crate) async fn connect(settings: &Settings) -> Result<Client> {
    let config = &settings.config;
    let (client, conn) = config.connect(settings.tls.clone()).await.map_err(|e| {
        let hosts: Vec<String> = config.get_hosts().iter().map(|h| format!("{h:?}")).collect();
        anyhow!(
            "cannot connect to Postgres ({}, port {:?}): {}",
            hosts.join(","),
            config.get_ports(),
            describe(&e)
        )
    })?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::error!("Postgres connection: {e}");
        }
    });
    Ok(client)
}

/// What went wrong, in full: the server's own message (tokio-postgres says
/// only "db error"), or the error with its causes (a TLS failure's reason
/// is two levels down).
fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}

/// Refuses to start when the schema is not installed.
pub(crate) async fn require_schema(client: &Client) -> Result<()> {
    require_tables(client).await?;
    if !is_current(client).await? {
        bail!(
            "the tables are older than this loader (0.3.0 columns missing): run ALTER EXTENSION airline_anomalies UPDATE, \
             or `loader schema --upgrade` where the schema was installed without the extension"
        );
    }
    Ok(())
}

/// Refuses a database without the tables at all.
async fn require_tables(client: &Client) -> Result<()> {
    let row = client
        .query_one("SELECT to_regclass('flights') IS NOT NULL", &[])
        .await?;
    if !row.get::<_, bool>(0) {
        bail!("the flights table is missing: run CREATE EXTENSION airline_anomalies, or `loader schema` where the extension cannot be installed");
    }
    Ok(())
}

/// Whether the tables have this loader's columns (0.3.0's newest, in both
/// tables it writes).
async fn is_current(client: &impl tokio_postgres::GenericClient) -> Result<bool> {
    let row = client
        .query_one(
            "SELECT count(*) = 2 FROM pg_catalog.pg_attribute
             WHERE (attrelid, attname) IN (('flights'::regclass, 'cancellation_code'),
                                           ('airport_daily_summary'::regclass, 'dep_delay_outside'))",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// Updates a plain schema (no extension) of 0.2.0 to this loader's, in
/// one transaction; false when it is already current. The extension's own
/// tables are updated by `ALTER EXTENSION`, never here.
pub(crate) async fn update_schema(client: &mut Client) -> Result<bool> {
    require_tables(client).await?;
    let tx = client.transaction().await?;
    let row = tx
        .query_one(
            "SELECT quote_ident(current_schema()),
                    EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'airline_anomalies'),
                    to_regclass('flight_years') IS NOT NULL",
            &[],
        )
        .await?;
    let (schema, extension, since_0_2): (String, bool, bool) = (row.get(0), row.get(1), row.get(2));
    if is_current(&tx).await? {
        return Ok(false);
    }
    if extension {
        bail!("the airline_anomalies extension owns these tables: run ALTER EXTENSION airline_anomalies UPDATE");
    }
    if !since_0_2 {
        bail!("the schema is older than 0.2.0 (no flight_years): dump the rows, install afresh with `loader schema`, and restore them");
    }
    tx.batch_execute(&summary::sql::plain_update_0_3(&schema))
        .await
        .context("updating the schema")?;
    tx.commit().await.context("committing the update")?;
    Ok(true)
}

/// Whether `flight_years` exists: a schema older than 0.2.0 lacks it, and
/// the loader then records nothing there rather than failing.
pub(crate) async fn records_years(client: &impl tokio_postgres::GenericClient) -> Result<bool> {
    let row = client
        .query_one("SELECT to_regclass('flight_years') IS NOT NULL", &[])
        .await?;
    Ok(row.get(0))
}

/// Installs the plain-SQL schema (no extension needed) into the
/// connection's current schema, which takes the place of `@extschema@`.
pub(crate) async fn install_schema(client: &Client) -> Result<()> {
    let row = client.query_one("SELECT quote_ident(current_schema())", &[]).await?;
    let Some(schema) = row.get::<_, Option<String>>(0) else {
        bail!("no current schema: set search_path to the schema to install into");
    };
    client
        .batch_execute(&summary::sql::schema_in(&schema))
        .await
        .context("installing the schema")
}
