//! The conformance client: one HTTP/1.1 request per connection, plain
//! `http://` (a usermock) or `https://` (a vendor), paced to the vendor's
//! documented rate limit.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1;
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The largest answer read; a bigger one is an error, not a golden.
const MAX_ANSWER: usize = 16 * 1024 * 1024;
/// How long one request may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured on a 429 before giving up.
const MAX_RETRY_AFTER: u64 = 120;

/// An answer, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// Header names lower-case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A request, resolved.
pub struct Outgoing {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// Spaces requests at least `interval` apart, and honours one 429.
pub struct Client {
    interval: Duration,
    last: Option<Instant>,
}

impl Client {
    pub fn new(interval: Duration) -> Client {
        Client {
            interval,
            last: None,
        }
    }

    /// Sends `request`; on a 429 that says how long to wait, waits and sends
    /// it once more (the vendor's limit is respected, not fought). Relesys
    /// documents `Retry-After` (concepts/throttling), awork `RateLimit-Reset`
    /// (rate-limits.mdx), both in seconds.
    pub async fn send(&mut self, request: &Outgoing) -> Result<Answer, Error> {
        let answer = self.paced(request).await?;
        if answer.status != 429 {
            return Ok(answer);
        }
        let Some(wait) = ["retry-after", "ratelimit-reset"]
            .iter()
            .find_map(|name| answer.header(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|s| *s <= MAX_RETRY_AFTER)
        else {
            return Ok(answer);
        };
        tracing::warn!(seconds = wait, "rate limited; waiting as the vendor asks");
        tokio::time::sleep(Duration::from_secs(wait)).await;
        self.paced(request).await
    }

    async fn paced(&mut self, request: &Outgoing) -> Result<Answer, Error> {
        if let Some(last) = self.last {
            let due = last + self.interval;
            let now = Instant::now();
            if due > now {
                tokio::time::sleep(due - now).await;
            }
        }
        self.last = Some(Instant::now());
        match tokio::time::timeout(TIMEOUT, send_once(request)).await {
            Ok(answer) => answer,
            Err(_) => Err(format!("no answer within {} s", TIMEOUT.as_secs()).into()),
        }
    }
}

async fn send_once(request: &Outgoing) -> Result<Answer, Error> {
    let uri: Uri = request.url.parse()?;
    let host = uri.host().ok_or("the URL has no host")?.to_owned();
    let bare_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_else(|| host.clone());
    let path = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_owned();
    let mut builder = Request::builder()
        .method(request.method.clone())
        .uri(path)
        .header("host", authority);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let outgoing = builder.body(Full::new(request.body.clone()))?;
    match uri.scheme_str() {
        Some("http") => {
            let port = uri.port_u16().unwrap_or(80);
            let stream = tokio::net::TcpStream::connect((bare_host.as_str(), port)).await?;
            exchange(TokioIo::new(stream), outgoing).await
        }
        Some("https") => {
            let port = uri.port_u16().unwrap_or(443);
            let stream = tokio::net::TcpStream::connect((bare_host.as_str(), port)).await?;
            let tls = super::tls::connect(&bare_host, stream).await?;
            exchange(TokioIo::new(tls), outgoing).await
        }
        _ => Err("only http:// and https:// URLs are supported".into()),
    }
}

async fn exchange<IO>(io: IO, request: Request<Full<Bytes>>) -> Result<Answer, Error>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = http1::handshake(io).await?;
    tokio::spawn(conn);
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = Limited::new(response.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?
        .to_bytes();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server on 127.0.0.1 that gives the `answers` in turn, one per
    /// connection, and counts the requests it read.
    async fn server(answers: Vec<&'static str>) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(AtomicUsize::new(0));
        let count = seen.clone();
        tokio::spawn(async move {
            for answer in answers {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                count.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });
        (format!("http://{addr}/x"), seen)
    }

    fn get(url: &str) -> Outgoing {
        Outgoing {
            method: Method::GET,
            url: url.to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";

    #[tokio::test]
    async fn a_429_with_retry_after_is_waited_out_and_sent_once_more() {
        let (url, seen) = server(vec![
            "HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            OK,
        ])
        .await;
        let started = Instant::now();
        let answer = Client::new(Duration::ZERO)
            .send(&get(&url))
            .await
            .expect("answer");
        assert_eq!((answer.status, seen.load(Ordering::SeqCst)), (200, 2));
        assert!(started.elapsed() >= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn awork_s_ratelimit_reset_is_honoured_like_retry_after() {
        let (url, seen) = server(vec![
            "HTTP/1.1 429 Too Many Requests\r\nratelimit-reset: 1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            OK,
        ])
        .await;
        let started = Instant::now();
        let answer = Client::new(Duration::ZERO)
            .send(&get(&url))
            .await
            .expect("answer");
        assert_eq!((answer.status, seen.load(Ordering::SeqCst)), (200, 2));
        assert!(started.elapsed() >= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_429_that_says_no_wait_or_too_long_a_one_is_the_answer() {
        let (url, seen) = server(vec![
            "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            "HTTP/1.1 429 Too Many Requests\r\nretry-after: 121\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            OK,
        ])
        .await;
        let mut client = Client::new(Duration::ZERO);
        let first = client.send(&get(&url)).await.expect("answer");
        let second = client.send(&get(&url)).await.expect("answer");
        assert_eq!(
            (first.status, second.status, seen.load(Ordering::SeqCst)),
            (429, 429, 2)
        );
    }

    #[tokio::test]
    async fn requests_are_spaced_by_the_documented_interval() {
        let (url, seen) = server(vec![OK, OK, OK]).await;
        let mut client = Client::new(Duration::from_millis(300));
        let started = Instant::now();
        for _ in 0..3 {
            client.send(&get(&url)).await.expect("answer");
        }
        assert_eq!(seen.load(Ordering::SeqCst), 3);
        assert!(started.elapsed() >= Duration::from_millis(600));
    }
}
