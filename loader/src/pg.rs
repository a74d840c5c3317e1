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

/// The search path of every loader connection: built-ins and our own
/// temporary tables only, so nothing a role plants in any schema (a table,
/// a function, an operator) is ever picked up; the loader names its own
/// objects schema-qualified (see [`Schema`]).
const SEARCH_PATH: &str = "SET search_path = pg_catalog, pg_temp";

/// A new connection, its driver task spawned, its search path set to
/// [`SEARCH_PATH`].
pub(crate) async fn connect(settings: &Settings) -> Result<Client> {
    let client = connect_as_is(settings).await?;
    client.batch_execute(SEARCH_PATH).await.context("setting search_path")?;
    Ok(client)
}

/// A new connection with the role's own search path (only to find the
/// schema by it, see [`open`]).
async fn connect_as_is(settings: &Settings) -> Result<Client> {
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

/// Where our tables are: a schema name, quoted as an identifier. Every
/// statement names our objects through it.
#[derive(Clone, Debug)]
pub(crate) struct Schema(String);

impl Schema {
    /// The schema, a quoted identifier.
    pub(crate) fn name(&self) -> &str {
        &self.0
    }

    /// One of our objects, schema-qualified (`name` a plain identifier).
    pub(crate) fn object(&self, name: &str) -> String {
        format!("{}.{name}", self.0)
    }

    /// A statement shared with the extension (`summary::sql`), its
    /// `@extschema@` made this schema.
    pub(crate) fn statement(&self, sql: &str) -> String {
        summary::sql::in_schema(sql, &self.0)
    }
}

/// Where a new connection finds things, looked up once, before its search
/// path is set to [`SEARCH_PATH`].
pub(crate) struct Found {
    /// The extension's schema, when it is installed.
    extension: Option<String>,
    /// The schema of `flights` by the role's search path.
    flights: Option<String>,
    /// The role's current schema (where `loader schema` installs).
    current: Option<String>,
}

impl Found {
    /// The schema of the tables: the extension's, else (a plain schema, no
    /// extension) that of `flights` by the role's search path.
    pub(crate) fn tables(&self) -> Result<Schema> {
        match self.extension.as_ref().or(self.flights.as_ref()) {
            Some(s) => Ok(Schema(s.clone())),
            None => bail!(
                "the flights table is missing: run CREATE EXTENSION airline_anomalies, or `loader schema` where the extension cannot be installed"
            ),
        }
    }
}

/// A new connection and where things are (see [`Found`]); its search path
/// is then [`SEARCH_PATH`], like every other loader connection's.
pub(crate) async fn open(settings: &Settings) -> Result<(Client, Found)> {
    let client = connect_as_is(settings).await?;
    let messages = client
        .simple_query(&format!(
            "SELECT (SELECT pg_catalog.quote_ident(n.nspname)
                     FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
                     WHERE e.extname = 'airline_anomalies'),
                    (SELECT pg_catalog.quote_ident(n.nspname)
                     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.oid = pg_catalog.to_regclass('flights')),
                    pg_catalog.quote_ident(pg_catalog.current_schema());
             {SEARCH_PATH}"
        ))
        .await
        .context("finding the schema")?;
    let row = messages
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .ok_or_else(|| anyhow!("finding the schema: no row"))?;
    let found = Found {
        extension: row.get(0).map(str::to_string),
        flights: row.get(1).map(str::to_string),
        current: row.get(2).map(str::to_string),
    };
    Ok((client, found))
}

/// A new connection to the tables, refusing a database without them or
/// with older ones.
pub(crate) async fn open_tables(settings: &Settings) -> Result<(Client, Schema)> {
    let (client, found) = open(settings).await?;
    let schema = found.tables()?;
    require_schema(&client, &schema).await?;
    Ok((client, schema))
}

/// Refuses to start when the schema is not installed or older than this loader.
async fn require_schema(client: &Client, schema: &Schema) -> Result<()> {
    require_tables(client, schema).await?;
    if !is_current(client, schema).await? {
        bail!(
            "the tables are older than this loader (0.3.0 columns missing): run ALTER EXTENSION airline_anomalies UPDATE, \
             or `loader schema --upgrade` where the schema was installed without the extension"
        );
    }
    Ok(())
}

/// Refuses a database without the tables at all.
async fn require_tables(client: &impl tokio_postgres::GenericClient, schema: &Schema) -> Result<()> {
    let row = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&schema.object("flights")])
        .await?;
    if !row.get::<_, bool>(0) {
        bail!("the flights table is missing: run CREATE EXTENSION airline_anomalies, or `loader schema` where the extension cannot be installed");
    }
    Ok(())
}

/// Whether the tables have this loader's columns (0.3.0's newest, in both
/// tables it writes).
async fn is_current(client: &impl tokio_postgres::GenericClient, schema: &Schema) -> Result<bool> {
    let row = client
        .query_one(
            "SELECT count(*) = 2 FROM pg_attribute
             WHERE (attrelid, attname) IN (($1::text::regclass, 'cancellation_code'),
                                           ($2::text::regclass, 'dep_delay_outside'))",
            &[&schema.object("flights"), &schema.object("airport_daily_summary")],
        )
        .await?;
    Ok(row.get(0))
}

/// Whether the partitions have a schema of their own (0.4.0's
/// `airline_partitions`, where writers create in place of the tables' schema).
async fn has_partitions_schema(client: &impl tokio_postgres::GenericClient) -> Result<bool> {
    let row = client
        .query_one("SELECT to_regnamespace('airline_partitions') IS NOT NULL", &[])
        .await?;
    Ok(row.get(0))
}

/// Updates a plain schema (no extension) of 0.2.0 or 0.3.0 to this
/// loader's, in one transaction; false when it is already current. The
/// extension's own tables are updated by `ALTER EXTENSION`, never here.
pub(crate) async fn update_schema(settings: &Settings) -> Result<bool> {
    let (mut client, found) = open(settings).await?;
    if found.extension.is_some() {
        let schema = found.tables()?;
        if is_current(&client, &schema).await? {
            return Ok(false);
        }
        bail!("the airline_anomalies extension owns these tables: run ALTER EXTENSION airline_anomalies UPDATE");
    }
    let schema = found.tables()?;
    let tx = client.transaction().await?;
    let columns_current = is_current(&tx, &schema).await?;
    if columns_current && has_partitions_schema(&tx).await? {
        return Ok(false);
    }
    if !records_years(&tx, &schema).await? {
        bail!("the schema is older than 0.2.0 (no flight_years): dump the rows, install afresh with `loader schema`, and restore them");
    }
    // The script creates objects unqualified in places: its schema is the
    // one created in, and pg_catalog is still searched before it.
    tx.batch_execute(&format!("SET LOCAL search_path = {}, pg_temp", schema.name()))
        .await?;
    if !columns_current {
        tx.batch_execute(&summary::sql::plain_update_0_3(schema.name()))
            .await
            .context("updating the schema to 0.3.0")?;
    }
    tx.batch_execute(&summary::sql::plain_update_0_4(schema.name()))
        .await
        .context("updating the schema to 0.4.0")?;
    tx.commit().await.context("committing the update")?;
    Ok(true)
}

/// Whether `flight_years` exists: a schema older than 0.2.0 lacks it, and
/// the loader then records nothing there rather than failing.
pub(crate) async fn records_years(client: &impl tokio_postgres::GenericClient, schema: &Schema) -> Result<bool> {
    let row = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&schema.object("flight_years")])
        .await?;
    Ok(row.get(0))
}

/// Installs the plain-SQL schema (no extension needed) into the role's
/// current schema, which takes the place of `@extschema@`, in one transaction.
pub(crate) async fn install_schema(settings: &Settings) -> Result<()> {
    let (mut client, found) = open(settings).await?;
    let Some(schema) = found.current else {
        bail!("no current schema: set search_path to the schema to install into");
    };
    let tx = client.transaction().await?;
    // As in update_schema: created in `schema`, pg_catalog searched first.
    tx.batch_execute(&format!("SET LOCAL search_path = {schema}, pg_temp"))
        .await?;
    tx.batch_execute(&summary::sql::schema_in(&schema))
        .await
        .context("installing the schema")?;
    tx.commit().await.context("committing the schema")
}
