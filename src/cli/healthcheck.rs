//! `usermock healthcheck`: the container's HEALTHCHECK without curl or a
//! shell in the image. A GET to the liveness URL (`/__admin/live`, which
//! needs no admin token and says nothing but "up"); exit 0 on a 200.

use std::process::ExitCode;
use std::time::Duration;

use hyper::Method;

use super::client;

/// Probes `url`; `admin_token` (the server's `--admin-token`, read from the
/// same `USERMOCK_ADMIN_TOKEN` in a container) is sent when set. `found`
/// says where the address came from, for the failure message.
pub fn run(url: &str, found: &str, admin_token: Option<&str>, timeout: Duration) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("usermock healthcheck: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let call = client::Call {
        method: Method::GET,
        url,
        admin_token,
        session: None,
        json: None,
    };
    match runtime.block_on(async { tokio::time::timeout(timeout, client::send(call)).await }) {
        Ok(Ok(response)) if response.status == 200 => {
            // Which server answered, so a check that passes says what it
            // proved (the only line a client subcommand prints on success).
            println!("usermock healthcheck: {url} is up ({found})");
            ExitCode::SUCCESS
        }
        Ok(Ok(response)) => {
            eprintln!(
                "usermock healthcheck: {url} ({found}) answered {}",
                response.status
            );
            ExitCode::FAILURE
        }
        Ok(Err(err)) => {
            eprintln!("usermock healthcheck: {url} ({found}): {err}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("usermock healthcheck: {url} ({found}): no answer within {timeout:?}");
            ExitCode::FAILURE
        }
    }
}
