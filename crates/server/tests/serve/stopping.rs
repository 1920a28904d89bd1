//! `serve`'s stop in one process: readiness turns 503 while a delivery in flight is still
//! given its grace, and each handler's breaker is in the server's registry.

use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use elf_resilience::{EnqueueRequest, TicketStatus};
use elf_resilience_server::config::Config;
use elf_resilience_server::redact::Redactor;
use elf_resilience_server::{http, serve, stores};
use tower::ServiceExt;

const DEADLINE: Duration = Duration::from_secs(30);

/// A loopback handler that takes every request and never answers; reports each one.
async fn silent_handler() -> (std::net::SocketAddr, tokio::sync::mpsc::UnboundedReceiver<()>) {
    let (got, received) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/replay",
        axum::routing::post(move || {
            let _ = got.send(());
            std::future::pending::<&'static str>()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, received)
}

async fn status_of(router: &axum::Router, path: &str) -> StatusCode {
    router.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_turns_503_at_once_while_the_delivery_in_flight_gets_its_grace() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, mut received) = silent_handler().await;
    let text = format!(
        "[storage]\ndata_dir = {:?}\n[server]\nbind = \"127.0.0.1:0\"\nshutdown_grace = \"3s\"\n\
         [health]\ndefault_checks = false\n[queue]\ninterval = \"50ms\"\n\
         [[queue.handlers]]\nname = \"llm\"\nresource = \"mcp_server\"\nurl = \"http://{addr}/replay\"\n",
        dir.path().display().to_string()
    );
    let config = Config::parse(&text, std::path::Path::new("stop.toml")).unwrap();
    let queue = stores::Stores::open(&config).unwrap().queue;
    let ticket = queue.enqueue(EnqueueRequest::new("llm", serde_json::json!(1)), SystemTime::now()).unwrap();
    let redactor = Redactor::from_config(&config, &[]);
    let running = serve::start(&config, config.server.bind(), redactor.clone()).await.unwrap();
    let router = http::app(running.state.clone(), redactor);
    let breaker = running.state.breakers.get("queue:llm").expect("the handler's breaker is registered");
    assert_eq!(format!("{:?}", breaker.state()), "Closed");
    assert_eq!(status_of(&router, "/readyz").await, StatusCode::OK);
    tokio::time::timeout(DEADLINE, received.recv()).await.expect("delivered").unwrap();

    let stopping = tokio::spawn(running.shutdown());
    let not_ready = async {
        while status_of(&router, "/readyz").await != StatusCode::SERVICE_UNAVAILABLE {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(DEADLINE, not_ready).await.expect("readiness turns 503");
    assert!(!stopping.is_finished(), "503 while the delivery in flight still has its grace");
    tokio::time::timeout(DEADLINE, stopping).await.expect("stops").unwrap().unwrap();
    let back = queue.get(&ticket).unwrap().unwrap();
    assert_eq!((back.status, back.released, back.failures()), (TicketStatus::Pending, 1, 0));
}
