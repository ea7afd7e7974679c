//! HTTPS to a vendor's API: rustls with Mozilla's root certificates
//! (webpki-roots), so the static binary needs no certificate store.

use std::sync::{Arc, OnceLock};

use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

pub type Stream = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

fn connector() -> Result<TlsConnector, super::http::Error> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        // rustls deprecates ring's provider for lacking post-quantum key
        // exchange; aws-lc-rs, which has it, needs cmake and triples the
        // build. Classical key exchange is what the vendors' APIs offer
        // today.
        #[allow(deprecated)]
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|builder| Arc::new(builder.with_root_certificates(roots).with_no_client_auth()))
            .map_err(|e| e.to_string())
    });
    match config {
        Ok(config) => Ok(TlsConnector::from(Arc::clone(config))),
        Err(err) => Err(format!("cannot set up TLS: {err}").into()),
    }
}

/// A TLS session with `host` over `stream`, the certificate checked
/// against Mozilla's roots and the host name.
pub async fn connect(
    host: &str,
    stream: tokio::net::TcpStream,
) -> Result<Stream, super::http::Error> {
    let name = ServerName::try_from(host.to_owned())?;
    Ok(connector()?.connect(name, stream).await?)
}
