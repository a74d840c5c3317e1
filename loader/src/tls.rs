//! TLS to Postgres with rustls, by libpq's `sslmode` rules (tokio-postgres
//! itself knows only disable/prefer/require, and verifies nothing):
//!
//! | sslmode | encrypted | certificate checked |
//! |---|---|---|
//! | `disable` | never | - |
//! | `prefer` (the default) | if the server offers it | no |
//! | `require` | always | no, unless a root certificate is given (then as `verify-ca`) |
//! | `verify-ca` | always | chain to `sslrootcert` |
//! | `verify-full` | always | chain to `sslrootcert`, and the host name |
//!
//! `sslmode` and `sslrootcert` come from the connection string (`DATABASE_URL`,
//! URL or key=value form) or `PGSSLMODE` / `PGSSLROOTCERT`; the root
//! certificate defaults to `~/.postgresql/root.crt`, as for libpq.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode as DriverMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl std::str::FromStr for SslMode {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "disable" => SslMode::Disable,
            // libpq's `allow` tries plain first; encrypting when offered is no worse.
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => bail!("sslmode {other:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"),
        })
    }
}

/// What a connection string said about TLS, and the string without it.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Split {
    pub rest: String,
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of a connection string (URL or
/// key=value form), which tokio-postgres would refuse or misread.
pub(crate) fn split(conn: &str) -> Split {
    let mut out = Split::default();
    let mut take = |key: &str, value: String| match key {
        "sslmode" => {
            out.sslmode = Some(value);
            true
        }
        "sslrootcert" => {
            out.sslrootcert = Some(value);
            true
        }
        _ => false,
    };
    if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
        let (base, query) = conn.split_once('?').unwrap_or((conn, ""));
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                let v = percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned();
                !take(k, v)
            })
            .collect();
        out.rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
    } else {
        let kept: Vec<String> = key_values(conn)
            .into_iter()
            .filter_map(|(k, v)| {
                (!take(&k, v.clone())).then(|| format!("{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
            })
            .collect();
        out.rest = kept.join(" ");
    }
    out
}

/// `key = value` pairs, values bare or single-quoted with backslash escapes.
fn key_values(conn: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut chars = conn.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
        if key.is_empty() {
            return pairs;
        }
        while chars.next_if(|c| c.is_whitespace() || *c == '=').is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '\'' => break,
                    c => value.push(c),
                }
            }
        } else {
            value.extend(std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace())));
        }
        pairs.push((key, value));
    }
}

/// The driver's mode and a connector for `sslmode`, `sslrootcert` (from the
/// connection string, else the environment).
pub(crate) fn connector(
    sslmode: Option<String>,
    sslrootcert: Option<String>,
) -> Result<(DriverMode, MakeRustlsConnect)> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mode: SslMode = sslmode
        .or_else(|| env("PGSSLMODE"))
        .as_deref()
        .unwrap_or("prefer")
        .parse()?;
    let explicit = sslrootcert.or_else(|| env("PGSSLROOTCERT")).map(PathBuf::from);
    let default = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".postgresql/root.crt"));
    let root = explicit.clone().or(default.filter(|p| p.is_file()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let chain = match (mode, root) {
        (SslMode::VerifyCa | SslMode::VerifyFull, None) => {
            bail!("sslmode {mode:?} needs a root certificate: set sslrootcert or PGSSLROOTCERT (or put it in ~/.postgresql/root.crt)")
        }
        (SslMode::VerifyCa | SslMode::VerifyFull | SslMode::Require, Some(path)) => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(read_roots(&path)?), provider.clone())
                .build()
                .context("building the certificate verifier")?,
        ),
        _ => None,
    };
    let verifier = Arc::new(Verifier {
        chain,
        host_name: mode == SslMode::VerifyFull,
        provider: provider.clone(),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let driver = match mode {
        SslMode::Disable => DriverMode::Disable,
        SslMode::Prefer => DriverMode::Prefer,
        _ => DriverMode::Require,
    };
    Ok((driver, MakeRustlsConnect::new(config)))
}

fn read_roots(path: &PathBuf) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in
        CertificateDer::pem_file_iter(path).with_context(|| format!("sslrootcert {}: cannot read", path.display()))?
    {
        let cert = cert.map_err(|e| anyhow!("sslrootcert {}: {e}", path.display()))?;
        roots
            .add(cert)
            .map_err(|e| anyhow!("sslrootcert {}: {e}", path.display()))?;
    }
    if roots.is_empty() {
        bail!("sslrootcert {}: no certificate in it", path.display());
    }
    Ok(roots)
}

/// What each sslmode checks of the server's certificate: nothing (`prefer`,
/// `require` without a root: encrypted only, libpq's meaning), its chain
/// (`verify-ca`, `require` given a root) or its chain and host name
/// (`verify-full`). The handshake's signatures are always checked.
#[derive(Debug)]
struct Verifier {
    /// The chain's check against the root certificates; `None`: not checked.
    chain: Option<Arc<WebPkiServerVerifier>>,
    /// Whether the certificate must also name the host.
    host_name: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.host_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parameters_are_taken_out() {
        let s = split("postgres://u:p@db:5432/x?sslmode=verify-full&application_name=a&sslrootcert=%2Fetc%2Fca.pem");
        assert_eq!(s.rest, "postgres://u:p@db:5432/x?application_name=a");
        assert_eq!(s.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(s.sslrootcert.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(split("postgresql://db/x?sslmode=require").rest, "postgresql://db/x");
        assert_eq!(split("postgres://db/x").sslmode, None);
    }

    #[test]
    fn key_value_parameters_are_taken_out() {
        let s = split("host=db  password='it\\'s a b' sslmode = verify-ca sslrootcert='/a b/ca.pem'");
        assert_eq!(s.sslmode.as_deref(), Some("verify-ca"));
        assert_eq!(s.sslrootcert.as_deref(), Some("/a b/ca.pem"));
        assert_eq!(s.rest, "host='db' password='it\\'s a b'");
        let cfg: tokio_postgres::Config = s.rest.parse().unwrap();
        assert_eq!(cfg.get_password(), Some(&b"it's a b"[..]));
    }

    #[test]
    fn modes_parse_as_libpq_names_them() {
        assert_eq!("verify-full".parse::<SslMode>().unwrap(), SslMode::VerifyFull);
        assert_eq!("allow".parse::<SslMode>().unwrap(), SslMode::Prefer);
        assert!("verify_full".parse::<SslMode>().is_err());
        let Err(e) = connector(Some("verify-full".into()), Some("/nonexistent/ca.pem".into())) else {
            panic!("a missing root certificate was accepted");
        };
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }
}
