//! The minimal stateful baseline `bench/run` times usermock against (see
//! `server.rs`). Not part of usermock; only the bench builds it.
//!
//!   cargo run --release --example stateful -- 127.0.0.1:0
//!
//! Prints `stateful listening on http://HOST:PORT` once it accepts.

use std::io::Write;
use std::net::SocketAddr;

mod server;

#[tokio::main]
async fn main() {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned())
        .parse()
        .expect("usage: stateful [HOST:PORT]");
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "stateful listening on http://{addr}").expect("stdout");
    stdout.flush().expect("stdout");
    drop(stdout);
    server::serve(listener).await;
}
