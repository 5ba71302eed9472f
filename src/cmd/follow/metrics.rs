//! The HTTP side of `follow --metrics ADDR`: a [`tiny_http`] server on a background thread
//! that answers `GET /metrics` (and `HEAD`) with [`Metrics::encode`]; other paths get 404,
//! other methods on `/metrics` get 405. It lives until the process ends.

use std::net::SocketAddr;
use std::sync::Arc;

use tiny_http::{Header, Method, Request, Response, Server};

use crate::alert::metrics::{CONTENT_TYPE, Metrics};
use crate::error::{Error, Result};

/// Listens on `addr` and serves `metrics` from a new thread. Returns the address bound
/// (with the real port when `addr` has port 0).
pub(super) fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<SocketAddr> {
    let server = Server::http(addr)
        .map_err(|e| Error::usage(format!("--metrics {addr}: cannot listen: {e}")))?;
    let bound = server.server_addr().to_ip().unwrap_or(addr);
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                answer(request, &metrics);
            }
        })
        .map_err(|e| Error::usage(format!("--metrics {addr}: cannot start a thread: {e}")))?;
    Ok(bound)
}

/// A header from fixed, valid text.
fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

/// Answers one request. A client gone before the answer is nobody's problem.
fn answer(request: Request, metrics: &Metrics) {
    let path = request.url().split('?').next().unwrap_or("");
    let text = |s: &str, code: u16| {
        Response::from_string(s)
            .with_status_code(code)
            .with_header(header("Content-Type", "text/plain; charset=utf-8"))
    };
    let _ = if path != "/metrics" {
        request.respond(text("Not found: the metrics are at /metrics\n", 404))
    } else if !matches!(request.method(), Method::Get | Method::Head) {
        request.respond(
            text("Method not allowed: use GET\n", 405).with_header(header("Allow", "GET, HEAD")),
        )
    } else {
        request.respond(
            Response::from_data(metrics.encode()).with_header(header("Content-Type", CONTENT_TYPE)),
        )
    };
}
