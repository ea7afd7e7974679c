//! A small load generator for usermock, for `bench/run`. Bounded in count and
//! time, loopback only.
//!
//!   cargo run --release --example load -- startup target/release/usermock 20
//!   cargo run --release --example load -- load http://127.0.0.1:PORT 8 20000

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACTIVITY_USER: &str =
    "/activity/v2/clients/aa7cf840-9ca9-46a3-9778-9015d6580d50/users/a1d97031-04e2-4907-a249-093f7436207b";
const RELESYS_USER: &str = "/relesys/api/v1.3/users/6cd99267-5adf-462d-88a2-6f86b7b2a164";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("startup") if args.len() == 3 => startup(&args[1], args[2].parse().unwrap_or(10)),
        Some("load") if args.len() == 4 => {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(load(
                &args[1],
                args[2].parse().unwrap_or(8),
                args[3].parse().unwrap_or(10_000),
            ));
        }
        _ => {
            eprintln!("usage: load startup BINARY RUNS | load load BASE_URL CONNECTIONS REQUESTS");
            std::process::exit(2);
        }
    }
}

/// Time from spawn to the `usermock listening on` line, RUNS times.
fn startup(binary: &str, runs: usize) {
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let mut child = Command::new(binary)
            .args(["--listen", "127.0.0.1:0", "--log", "warn"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        times.push(started.elapsed());
        let _ = child.kill();
        let _ = child.wait();
    }
    report("startup (spawn → listening line)", &mut times);
}

/// REQUESTS requests over CONNECTIONS keep-alive connections: GETs and
/// PATCHes of the activity and Relesys seed users, in turn.
async fn load(base: &str, connections: usize, requests: usize) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .expect("client");
    let base = Arc::new(base.to_owned());
    let per_task = requests / connections;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    let mut tasks = Vec::new();
    for task in 0..connections {
        let client = client.clone();
        let base = Arc::clone(&base);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_task);
            let mut failures = 0usize;
            for i in 0..per_task {
                if Instant::now() > deadline {
                    break;
                }
                let session = format!("bench-{task}");
                let request = match i % 4 {
                    0 => client
                        .get(format!("{base}{ACTIVITY_USER}"))
                        .bearer_auth("activity-admin"),
                    1 => client
                        .patch(format!("{base}{ACTIVITY_USER}"))
                        .bearer_auth("activity-admin")
                        .header("content-type", "application/json")
                        .body(r#"{"departments":["d1a2b3c4-e5f6-7890-abcd-ef1234567890"]}"#),
                    2 => client
                        .get(format!("{base}{RELESYS_USER}"))
                        .bearer_auth("relesys-admin"),
                    _ => client
                        .patch(format!("{base}{RELESYS_USER}"))
                        .bearer_auth("relesys-admin")
                        .header("content-type", "application/json-patch+json")
                        .body(r#"[{"op":"replace","path":"/title","value":"Bench"}]"#),
                };
                let sent = Instant::now();
                match request.header("x-usermock-session", session).send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        latencies.push(sent.elapsed());
                    }
                    _ => failures += 1,
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (mut l, f) = task.await.expect("task");
        latencies.append(&mut l);
        failures += f;
    }
    let elapsed = started.elapsed();
    println!(
        "load: {} requests over {connections} connections in {:.2} s = {:.0} req/s, {failures} failed",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    report("latency", &mut latencies);
}

fn report(what: &str, times: &mut [Duration]) {
    if times.is_empty() {
        println!("{what}: no samples");
        return;
    }
    times.sort();
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what}: n={} min={:?} p50={:?} p90={:?} p99={:?} max={:?}",
        times.len(),
        times[0],
        pick(0.5),
        pick(0.9),
        pick(0.99),
        times[times.len() - 1]
    );
}
