//! Where flight files come from: `s3://bucket/key`, `s3://bucket/prefix/`
//! (every object under it) or a local path or glob. Opened as a stream,
//! decompressed by content (gzip, zstd, or plain), never read whole.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _, Result};
use aws_sdk_s3::error::ProvideErrorMetadata;
use tokio_util::io::SyncIoBridge;

use crate::inflate::{self, Inflated};

/// One file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    S3 { bucket: String, key: String },
    Local(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            Source::Local(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The S3 client, built once, on first use: credentials from the standard
/// AWS chain, `--endpoint-url` / `AWS_ENDPOINT_URL` for S3-compatible
/// stores (path-style addressing), retries with exponential backoff.
pub(crate) struct S3 {
    endpoint_url: Option<String>,
    client: tokio::sync::OnceCell<aws_sdk_s3::Client>,
}

impl S3 {
    pub(crate) fn new(endpoint_url: Option<String>) -> Self {
        S3 {
            endpoint_url,
            client: tokio::sync::OnceCell::new(),
        }
    }

    pub(crate) async fn client(&self) -> &aws_sdk_s3::Client {
        self.client
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(5));
                if let Some(url) = &self.endpoint_url {
                    loader = loader.endpoint_url(url);
                }
                let shared = loader.load().await;
                let mut conf = aws_sdk_s3::config::Builder::from(&shared);
                if shared.endpoint_url().is_some() {
                    conf = conf.force_path_style(true);
                }
                if shared.region().is_none() {
                    conf = conf.region(aws_sdk_s3::config::Region::new("us-east-1"));
                }
                aws_sdk_s3::Client::from_conf(conf.build())
            })
            .await
    }
}

/// One clear line for an S3 failure: the service's code and message when
/// it answered, else the transport error.
pub(crate) fn s3_error<E>(what: &str, e: aws_sdk_s3::error::SdkError<E>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match e.as_service_error() {
        Some(se) => match se.message() {
            Some(msg) => anyhow!("{what}: S3 said {}: {msg}", se.code().unwrap_or("an error")),
            None => anyhow!("{what}: S3 said {}", se.code().unwrap_or("an error")),
        },
        None => anyhow!("{what}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)),
    }
}

/// Expands the command line's sources into files, in a stable order.
pub(crate) async fn expand(specs: &[String], s3: &S3) -> Result<Vec<Source>> {
    let mut out = Vec::new();
    for spec in specs {
        if let Some(rest) = spec.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                bail!("{spec}: no bucket in the S3 address");
            }
            if key.is_empty() || key.ends_with('/') {
                out.extend(list_prefix(s3, bucket, key).await?);
            } else {
                check_object(s3, bucket, key).await?;
                out.push(Source::S3 {
                    bucket: bucket.into(),
                    key: key.into(),
                });
            }
        } else if spec.contains(['*', '?', '[']) {
            let mut paths: Vec<PathBuf> = glob::glob(spec)
                .with_context(|| format!("{spec}: not a valid pattern"))?
                .collect::<Result<_, _>>()?;
            paths.retain(|p| p.is_file());
            if paths.is_empty() {
                bail!("{spec}: no file matches");
            }
            paths.sort();
            out.extend(paths.into_iter().map(Source::Local));
        } else {
            let path = PathBuf::from(spec);
            if !path.is_file() {
                bail!("{spec}: no such file");
            }
            out.push(Source::Local(path));
        }
    }
    Ok(out)
}

fn status<E>(e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

/// Fails with "no such bucket" or "no such key" when the object is missing
/// (a HEAD answer has no body to say which).
async fn check_object(s3: &S3, bucket: &str, key: &str) -> Result<()> {
    let client = s3.client().await;
    match client.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => Ok(()),
        Err(e) if status(&e) == Some(404) => match client.head_bucket().bucket(bucket).send().await {
            Err(be) if status(&be) == Some(404) => bail!("s3://{bucket}: no such bucket"),
            _ => bail!("s3://{bucket}/{key}: no such key"),
        },
        Err(e) if status(&e) == Some(403) => {
            bail!("s3://{bucket}/{key}: access denied (403): check the credentials and the bucket's policy")
        }
        Err(e) => Err(s3_error(&format!("s3://{bucket}/{key}"), e)),
    }
}

async fn list_prefix(s3: &S3, bucket: &str, prefix: &str) -> Result<Vec<Source>> {
    let client = s3.client().await;
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| s3_error(&format!("s3://{bucket}/{prefix}"), e))?;
        for obj in page.contents() {
            if let Some(key) = obj.key().filter(|k| !k.ends_with('/')) {
                out.push(Source::S3 {
                    bucket: bucket.into(),
                    key: key.into(),
                });
            }
        }
    }
    if out.is_empty() {
        bail!("s3://{bucket}/{prefix}: no objects under this prefix");
    }
    Ok(out)
}

/// Opens a source for reading: decompressed (by its magic bytes) on a
/// thread of its own, see [`crate::inflate`]. `bytes` counts the raw bytes.
pub(crate) async fn open(src: &Source, s3: &S3, bytes: Arc<AtomicU64>) -> Result<Inflated> {
    let raw: Box<dyn std::io::Read + Send> = match src {
        Source::Local(path) => Box::new(std::fs::File::open(path).with_context(|| format!("{src}: cannot open"))?),
        Source::S3 { bucket, key } => {
            let client = s3.client().await;
            let obj = client
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| s3_error(&src.to_string(), e))?;
            // Read on the inflating thread, which blocks on this runtime.
            Box::new(SyncIoBridge::new(Box::pin(obj.body.into_async_read())))
        }
    };
    inflate::spawn(raw, &src.to_string(), bytes).with_context(|| format!("{src}: cannot start reading"))
}
