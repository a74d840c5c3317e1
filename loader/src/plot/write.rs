//! Writing rendered files to a local directory or an S3 prefix.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::File;
use crate::source::{s3_error, S3};

/// Writes `files` under `out`: `s3://bucket/prefix` or a directory.
pub(super) async fn files(out: &str, files: &[File], endpoint_url: Option<String>) -> Result<()> {
    let Some(rest) = out.strip_prefix("s3://") else {
        for f in files {
            let path = PathBuf::from(out).join(&f.name);
            std::fs::create_dir_all(path.parent().expect("has a parent"))?;
            std::fs::write(&path, &f.bytes).with_context(|| format!("{}: cannot write", path.display()))?;
        }
        return Ok(());
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = match prefix {
        "" => String::new(),
        p if p.ends_with('/') => p.to_string(),
        p => format!("{p}/"),
    };
    let s3 = S3::new(endpoint_url);
    let client = s3.client().await;
    for f in files {
        let key = format!("{prefix}{}", f.name);
        let content_type = if key.ends_with(".svg") {
            "image/svg+xml"
        } else {
            "image/png"
        };
        client
            .put_object()
            .bucket(bucket)
            .key(&key)
            .content_type(content_type)
            .body(f.bytes.clone().into())
            .send()
            .await
            .map_err(|e| s3_error(&format!("s3://{bucket}/{key}"), e))?;
    }
    Ok(())
}
