//! One HTTP/1 connection: hyper with a header-read timeout, and a shutdown that lets a request
//! in flight finish but does not wait for a client still sending its headers.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tower_service::Service;

/// After the last answer of a connection that is shutting down, how long hyper gets to flush
/// it and close on its own before the connection is dropped.
const LINGER: Duration = Duration::from_millis(250);

/// How a connection is served.
#[derive(Debug, Clone, Copy)]
pub struct Edges {
    /// Time to send a request's headers (and, idle, the next request's).
    pub header_timeout: Duration,
    /// How long, once shutdown begins, a request in flight may still take.
    pub grace: Duration,
}

/// Serves `stream` until the client leaves or `stop` turns true.
pub async fn serve(stream: TcpStream, router: Router, edges: Edges, mut stop: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let (busy, mut in_flight) = watch::channel(0usize);
    let service = answering(Answer { router, busy: Arc::new(busy) });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(edges.header_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => return log(result),
        _ = stop.wait_for(|s| *s) => {}
    }
    conn.as_mut().graceful_shutdown();
    tokio::select! {
        result = conn.as_mut() => log(result),
        () = answered(&mut in_flight) => {}
        () = tokio::time::sleep(edges.grace) => tracing::warn!("connection dropped at shutdown, its request unfinished"),
    }
}

/// Resolves once no request is in flight and none starts for [`LINGER`].
async fn answered(in_flight: &mut watch::Receiver<usize>) {
    loop {
        let _ = in_flight.wait_for(|n| *n == 0).await;
        tokio::select! {
            () = tokio::time::sleep(LINGER) => if *in_flight.borrow() == 0 { return },
            changed = in_flight.changed() => if changed.is_err() { return },
        }
    }
}

fn log(result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        // Timeouts and clients that leave mid-request land here; nothing to act on.
        tracing::debug!(error = %e, "connection ended");
    }
}

/// The router as a hyper service, counting the requests in flight on its connection.
#[derive(Debug, Clone)]
struct Answer {
    router: Router,
    busy: Arc<watch::Sender<usize>>,
}

fn answering(
    answer: Answer,
) -> impl hyper::service::Service<Request<Incoming>, Response = Response, Error = Infallible, Future: Send> {
    hyper::service::service_fn(move |request: Request<Incoming>| {
        let guard = InFlight::enter(answer.busy.clone());
        let mut router = answer.router.clone();
        async move {
            let response = router.call(request).await?;
            Ok(response.map(|body| Body::new(Counted { body, _guard: guard })))
        }
    })
}

/// One request in flight, until its answer's body is done with.
#[derive(Debug)]
struct InFlight(Arc<watch::Sender<usize>>);

impl InFlight {
    fn enter(busy: Arc<watch::Sender<usize>>) -> Self {
        busy.send_modify(|n| *n += 1);
        Self(busy)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// A response body that keeps its request counted until hyper drops it.
#[derive(Debug)]
struct Counted {
    body: Body,
    _guard: InFlight,
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
