//! Work per request, counted: how many heap allocations (and bytes, and
//! reallocations) usermock's server threads make to answer one request of
//! each benchmarked route. Unlike a timing, these counts do not depend on the
//! machine or on who else is running on it, so `.ci/alloc-budget` holds them
//! under `bench/alloc-budget.json`. Not part of usermock; only the bench and
//! that check build it.
//!
//!   python3 bench/bench.py requests DIR      # the request files
//!   cargo run --example alloc -- DIR [--json] [--server usermock|stateful]
//!   cargo run --example alloc -- DIR --sites ROUTE   # where they come from
//!
//! The counting allocator wraps `System` and counts only on threads marked
//! as server threads: the server runs on its own tokio runtime whose threads
//! (the one driving it and any blocking-pool thread) mark themselves, while
//! the client here runs on the unmarked main thread with `std::net`, so its
//! own allocations are not counted. No log subscriber is installed, so the
//! counts leave out log formatting (the binary logs requests only at debug).
//!
//! Per route: one keep-alive connection; a warm-up of one pass over the
//! route's request file (at least WARMUP requests), then MEASURED requests
//! rounded up to whole passes, so every run counts the same mix. Before the
//! first route, JOURNAL_FILL requests fill the request journal to its default
//! size, so every route is counted with the journal evicting, as in a
//! long-running server. Counters are read only once the server has gone
//! quiet (no allocation for QUIET), so work done after an answer was sent
//! (the journal entry, drops) belongs to its own request.
//!
//! `--sites ROUTE` answers where a route's allocations come from: for
//! SITE_REQUESTS requests (after the same warm-up) the allocator captures a
//! backtrace of every counted allocation, and the report groups them by the
//! innermost usermock frame (function and line) and the call it made there,
//! most allocations first. Slow (every backtrace is resolved), so for
//! looking, never for the budgets.

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[path = "../stateful/server.rs"]
mod stateful;

// ------------------------------------------------------------- counting --

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static REALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // `const` so reading it never allocates (a lazily initialised
    // thread-local could, inside the allocator).
    static SERVER_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn counted() -> bool {
    SERVER_THREAD.try_with(Cell::get).unwrap_or(false)
        && !IN_SAMPLE.try_with(Cell::get).unwrap_or(true)
}

/// Whether counted allocations also capture a backtrace (`--sites`).
static SAMPLING: AtomicBool = AtomicBool::new(false);
static SAMPLES: Mutex<Vec<Backtrace>> = Mutex::new(Vec::new());

thread_local! {
    // Set while a backtrace is captured and stored, whose own allocations
    // are neither counted nor sampled.
    static IN_SAMPLE: Cell<bool> = const { Cell::new(false) };
}

fn sample() {
    if !SAMPLING.load(Ordering::Relaxed) {
        return;
    }
    let entered = IN_SAMPLE.try_with(|inside| !inside.replace(true));
    if entered != Ok(true) {
        return;
    }
    let trace = Backtrace::force_capture();
    if let Ok(mut samples) = SAMPLES.lock() {
        samples.push(trace);
    }
    let _ = IN_SAMPLE.try_with(|inside| inside.set(false));
}

fn mark_server_thread() {
    SERVER_THREAD.with(|marked| marked.set(true));
}

// SAFETY: every call is forwarded unchanged to `System`; the counters are
// plain atomics and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counted() {
            sample();
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if counted() {
            sample();
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counted() {
            // A reallocation is counted on its own, and its bytes as the
            // growth it asked for (a shrink adds none).
            REALLOCS.fetch_add(1, Ordering::Relaxed);
            sample();
            BYTES.fetch_add(
                new_size.saturating_sub(layout.size()) as u64,
                Ordering::Relaxed,
            );
        }
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Clone, Copy, PartialEq)]
struct Counts {
    allocs: u64,
    bytes: u64,
    reallocs: u64,
}

fn now() -> Counts {
    Counts {
        allocs: ALLOCS.load(Ordering::Relaxed),
        bytes: BYTES.load(Ordering::Relaxed),
        reallocs: REALLOCS.load(Ordering::Relaxed),
    }
}

const QUIET: Duration = Duration::from_millis(30);

/// The counters once the server threads have stopped allocating for QUIET.
fn settled() -> Counts {
    let give_up = Instant::now() + Duration::from_secs(5);
    let mut last = now();
    let mut since = Instant::now();
    while Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(5));
        let current = now();
        if current != last {
            last = current;
            since = Instant::now();
        } else if since.elapsed() >= QUIET {
            break;
        }
    }
    last
}

// ------------------------------------------------------------- requests --

/// Routes counted, by their `bench/bench.py` workload name.
const ROUTES: &[&str] = &[
    "get-activity",
    "get-relesys",
    "get-awork",
    "get-replay",
    "update-activity",
    "update-relesys",
    "update-relesys-add",
    "update-awork",
    "update-replay",
    "list-activity",
    "list-relesys",
    "list-awork",
    "list-replay",
];

/// The stateful baseline serves one route each way.
const STATEFUL_ROUTES: &[&str] = &["stateful-read", "stateful-write"];

const WARMUP: usize = 50;
const MEASURED: usize = 400;
const JOURNAL_FILL: usize = 1100;

struct Request {
    wire: Vec<u8>,
}

/// A `bench.py requests` file: method, path, body or `-`, then headers,
/// tab-separated, one request per line.
fn read_requests(path: &Path) -> Result<Vec<Request>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut fields = line.split('\t');
        let (Some(method), Some(target), Some(body)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(format!("{}: short line {line:?}", path.display()));
        };
        let body = if body == "-" { "" } else { body };
        let mut wire = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for header in fields {
            wire.push_str(header);
            wire.push_str("\r\n");
        }
        if !body.is_empty() || method != "GET" {
            wire.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        wire.push_str("\r\n");
        wire.push_str(body);
        out.push(Request {
            wire: wire.into_bytes(),
        });
    }
    if out.is_empty() {
        return Err(format!("{}: no requests", path.display()));
    }
    Ok(out)
}

struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    fn open(addr: SocketAddr) -> Result<Connection, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        Ok(Connection {
            reader: BufReader::new(stream),
        })
    }

    /// Sends one request and reads its whole answer; returns the status.
    fn exchange(&mut self, request: &Request) -> Result<(u16, Vec<u8>), String> {
        self.reader
            .get_mut()
            .write_all(&request.wire)
            .map_err(|e| format!("write: {e}"))?;
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .map_err(|e| format!("read: {e}"))?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {line:?}"))?;
        let mut length = None;
        loop {
            line.clear();
            self.reader
                .read_line(&mut line)
                .map_err(|e| format!("read: {e}"))?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                }
            }
        }
        let length = length.ok_or("answer without Content-Length")?;
        let mut body = vec![0; length];
        self.reader
            .read_exact(&mut body)
            .map_err(|e| format!("read body: {e}"))?;
        Ok((status, body))
    }

    fn run(&mut self, requests: &[Request], count: usize, route: &str) -> Result<(), String> {
        for request in requests.iter().cycle().take(count) {
            let (status, body) = self.exchange(request)?;
            if !(200..300).contains(&status) {
                return Err(format!(
                    "{route}: answered {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                ));
            }
        }
        Ok(())
    }
}

// --------------------------------------------------------------- servers --

/// Starts a server on its own runtime, whose threads all count, and returns
/// its address. The runtime thread lives as long as the process.
fn start(kind: &str) -> Result<SocketAddr, String> {
    let kind = kind.to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .on_thread_start(mark_server_thread)
            .build();
        let runtime = match runtime {
            Ok(runtime) => runtime,
            Err(e) => {
                let _ = tx.send(Err(format!("runtime: {e}")));
                return;
            }
        };
        mark_server_thread();
        runtime.block_on(async move {
            let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                Ok(listener) => listener,
                Err(e) => {
                    let _ = tx.send(Err(format!("bind: {e}")));
                    return;
                }
            };
            let addr = listener.local_addr().map_err(|e| e.to_string());
            if kind == "stateful" {
                let _ = tx.send(addr);
                stateful::serve(listener).await;
                return;
            }
            match usermock::Usermock::new(&usermock::Options::default()) {
                Ok(server) => {
                    let _ = tx.send(addr);
                    server.run(listener, std::future::pending()).await;
                }
                Err(e) => {
                    let _ = tx.send(Err(format!("usermock: {e}")));
                }
            }
        });
    });
    rx.recv().map_err(|e| e.to_string())?
}

// ------------------------------------------------------------------ main --

struct Row {
    route: &'static str,
    requests: usize,
    allocs: f64,
    bytes: f64,
    reallocs: f64,
}

fn measure(addr: SocketAddr, dir: &Path, routes: &[&'static str]) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    if routes == ROUTES {
        // Fill the journal with answered requests first (see the top).
        let fill = read_requests(&dir.join("get-activity.txt"))?;
        Connection::open(addr)?.run(&fill, JOURNAL_FILL, "journal fill")?;
    }
    for &route in routes {
        let requests = read_requests(&dir.join(format!("{route}.txt")))?;
        let mut connection = Connection::open(addr)?;
        let warmup = requests.len() * WARMUP.div_ceil(requests.len());
        let measured = requests.len() * MEASURED.div_ceil(requests.len());
        connection.run(&requests, warmup, route)?;
        let before = settled();
        connection.run(&requests, measured, route)?;
        let after = settled();
        let per = |a: u64, b: u64| (b.saturating_sub(a)) as f64 / measured as f64;
        rows.push(Row {
            route,
            requests: measured,
            allocs: per(before.allocs, after.allocs),
            bytes: per(before.bytes, after.bytes),
            reallocs: per(before.reallocs, after.reallocs),
        });
    }
    Ok(rows)
}

/// Requests whose allocations `--sites` traces.
const SITE_REQUESTS: usize = 20;

/// One frame of a resolved backtrace: function, and `file:line` if known.
fn frames(trace: &Backtrace) -> Vec<(String, String)> {
    let text = trace.to_string();
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(at) = line.strip_prefix("at ") {
            if let Some(last) = out.last_mut() {
                last.1 = at.to_owned();
            }
        } else if let Some((index, function)) = line.split_once(": ") {
            if index.bytes().all(|b| b.is_ascii_digit()) {
                // Drop the hash suffix `::h0123…`.
                let function = match function.rsplit_once("::h") {
                    Some((name, hash)) if hash.len() == 16 => name,
                    _ => function,
                };
                out.push((function.to_owned(), String::new()));
            }
        }
    }
    out
}

/// Where an allocation was made: the innermost frame in usermock's own
/// `src/` and the call it made there, or, when no usermock frame is on the
/// stack (hyper's and tokio's own work), the first frame outside the
/// standard library and this counter.
fn site(frames: &[(String, String)]) -> String {
    let ours = |file: &str| {
        file.contains("/src/") && !file.contains("/.cargo/") && !file.contains("/rustc/")
    };
    let plumbing = |function: &str| {
        [
            "std::",
            "core::",
            "alloc::",
            "<alloc::",
            "<core::",
            "<std::",
            "alloc::main",
            "__rust",
            "<alloc::Counting",
        ]
        .iter()
        .any(|p| function.starts_with(p))
            || function.contains("Counting")
            || function.starts_with("alloc::sample")
    };
    // `…/src/x.rs:LINE:COLUMN` → `src/x.rs:LINE`.
    let short = |file: &str| match file.find("/src/") {
        Some(at) => {
            let tail = &file[at + 1..];
            tail.rsplit_once(':')
                .map_or(tail, |(place, _)| place)
                .to_owned()
        }
        None => file.to_owned(),
    };
    if let Some(at) = frames.iter().position(|(_, file)| ours(file)) {
        let (function, file) = &frames[at];
        let callee = at
            .checked_sub(1)
            .and_then(|i| frames.get(i))
            .map(|(f, _)| f.as_str())
            .unwrap_or("?");
        return format!("{function} ({}) -> {callee}", short(file));
    }
    match frames.iter().find(|(function, _)| !plumbing(function)) {
        Some((function, _)) => format!("[not usermock] {function}"),
        None => "[unknown]".to_owned(),
    }
}

fn sites(addr: SocketAddr, dir: &Path, route: &str) -> Result<(), String> {
    let fill = read_requests(&dir.join("get-activity.txt"))?;
    Connection::open(addr)?.run(&fill, JOURNAL_FILL, "journal fill")?;
    let requests = read_requests(&dir.join(format!("{route}.txt")))?;
    let mut connection = Connection::open(addr)?;
    connection.run(
        &requests,
        requests.len() * WARMUP.div_ceil(requests.len()),
        route,
    )?;
    settled();
    SAMPLING.store(true, Ordering::Relaxed);
    connection.run(&requests, SITE_REQUESTS, route)?;
    settled();
    SAMPLING.store(false, Ordering::Relaxed);
    let samples = std::mem::take(&mut *SAMPLES.lock().map_err(|e| e.to_string())?);
    let mut by_site: HashMap<String, usize> = HashMap::new();
    for trace in &samples {
        *by_site.entry(site(&frames(trace))).or_default() += 1;
    }
    let mut rows: Vec<_> = by_site.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    println!(
        "{route}: {} allocations and reallocations over {SITE_REQUESTS} requests ({:.1} per request), by site",
        samples.len(),
        samples.len() as f64 / SITE_REQUESTS as f64
    );
    println!();
    println!("| per request | site -> call made there |");
    println!("|---|---|");
    for (site, n) in rows {
        println!("| {:.2} | {site} |", n as f64 / SITE_REQUESTS as f64);
    }
    Ok(())
}

fn main() {
    let mut sites_of = None;
    let mut dir = None;
    let mut json = false;
    let mut server = "usermock".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--server" => server = args.next().unwrap_or_default(),
            "--sites" => sites_of = args.next(),
            _ if !arg.starts_with('-') && dir.is_none() => dir = Some(PathBuf::from(arg)),
            _ => {
                eprintln!("usage: alloc REQUEST_DIR [--json] [--server usermock|stateful] [--sites ROUTE]");
                std::process::exit(2);
            }
        }
    }
    let Some(dir) = dir else {
        eprintln!("usage: alloc REQUEST_DIR [--json] [--server usermock|stateful] [--sites ROUTE] (REQUEST_DIR from `python3 bench/bench.py requests REQUEST_DIR`)");
        std::process::exit(2);
    };
    let routes = match server.as_str() {
        "usermock" => ROUTES,
        "stateful" => STATEFUL_ROUTES,
        other => {
            eprintln!("alloc: unknown --server {other:?} (usermock or stateful)");
            std::process::exit(2);
        }
    };
    if let Some(route) = sites_of {
        if let Err(e) = start(&server).and_then(|addr| sites(addr, &dir, &route)) {
            eprintln!("alloc: {e}");
            std::process::exit(1);
        }
        return;
    }
    let rows = match start(&server).and_then(|addr| measure(addr, &dir, routes)) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("alloc: {e}");
            std::process::exit(1);
        }
    };
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    if json {
        let routes: serde_json::Map<String, serde_json::Value> = rows
            .iter()
            .map(|r| {
                (
                    r.route.to_owned(),
                    serde_json::json!({
                        "requests": r.requests,
                        "allocations": r.allocs,
                        "bytes": r.bytes,
                        "reallocations": r.reallocs,
                    }),
                )
            })
            .collect();
        let out = serde_json::json!({ "server": server, "profile": profile, "routes": routes });
        println!("{out}");
        return;
    }
    println!("{server}, {profile} profile, per request (averaged over the counted requests)");
    println!();
    println!("| route | requests counted | allocations | bytes allocated | reallocations |");
    println!("|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {:.1} | {:.0} | {:.1} |",
            r.route, r.requests, r.allocs, r.bytes, r.reallocs
        );
    }
}
