//! `FallbackLayer` over the SQLite cache and queue: answers served from the cache file,
//! requests queued in the queue file and replayed by a worker that opens it anew.
#![cfg(all(feature = "tower", feature = "store"))]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use elf_resilience::{
    Context, FallbackLayer, FallbackProtocol, FallbackStrategy, Outcome, QueueWorker, RequestQueue,
    ResourceType, SqliteCache, SqliteQueue, StaticGate, TicketResult, TicketStatus, TokioClock, TraceKind,
    WithAttempt,
};
use serde::{Deserialize, Serialize};
use tower::{Layer, ServiceExt, service_fn};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("elf-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Report {
    id: u32,
}

#[tokio::test(start_paused = true)]
async fn cache_and_queue_in_sqlite_files_through_the_layer() {
    let dir = TempDir::new("tower-fallback-sqlite");
    let (cache_file, queue_file) = (dir.0.join("cache.db"), dir.0.join("queue.db"));
    let queue = Arc::new(SqliteQueue::open(&queue_file).unwrap());
    let protocol = FallbackProtocol::builder()
        .gate(Arc::new(StaticGate::new()))
        .clock(TokioClock::shared())
        .cache(
            Arc::new(SqliteCache::open(&cache_file).unwrap()),
            Duration::from_secs(60),
            Duration::from_secs(600),
        )
        .queue(queue.clone())
        .build()
        .unwrap();
    let up = Arc::new(AtomicBool::new(true));
    let u = up.clone();
    let reports = service_fn(move |r: WithAttempt<Report>| {
        let up = u.load(Ordering::SeqCst);
        async move { if up { Ok(format!("report {}", r.request.id)) } else { Err("warehouse down".to_owned()) } }
    });
    let svc = FallbackLayer::new(protocol, ResourceType::Database)
        .strategies([FallbackStrategy::UseCache, FallbackStrategy::QueueRequest])
        .context_from(|_: &Report| Context::new().team("finance"))
        .cache_key(|r: &Report| format!("report:{}", r.id))
        .queue_payload("report", |r: &Report| r.clone())
        .layer(reports);

    svc.clone().oneshot(Report { id: 1 }).await.unwrap();
    up.store(false, Ordering::SeqCst);
    let cached = svc.clone().oneshot(Report { id: 1 }).await.unwrap();
    assert_eq!(cached.value().map(String::as_str), Some("report 1"));
    assert!(cached.served().unwrap().from_cache);

    let queued = svc.oneshot(Report { id: 2 }).await.unwrap();
    let Outcome::Queued { ticket, trace } = queued else { panic!("expected a queued outcome") };
    let kinds: Vec<TraceKind> = trace.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [TraceKind::Failed, TraceKind::Skipped, TraceKind::Queued], "cache miss, then queued");

    // Another process opens the same file and replays the request.
    let reopened = Arc::new(SqliteQueue::open(&queue_file).unwrap());
    let stored = reopened.get(&ticket).unwrap().unwrap();
    assert_eq!((stored.handler.as_str(), stored.status), ("report", TicketStatus::Pending));
    assert_eq!(stored.payload, serde_json::json!({"id": 2}));
    let worker = QueueWorker::new(reopened, Arc::new(StaticGate::new()))
        .clock(TokioClock::shared())
        .register_typed("report", ResourceType::Database, |r: Report, ctx| async move {
            Ok::<_, String>(format!("report {} for {}", r.id, ctx.team_name.unwrap()))
        });
    assert_eq!(worker.run_once().await.unwrap().succeeded, 1);
    let done = worker.wait_for(&ticket).await.unwrap();
    assert_eq!(done, TicketResult::Done(Some(serde_json::json!("report 2 for finance"))));
    assert_eq!(queue.status(&ticket).unwrap(), Some(TicketStatus::Done), "the first handle sees it done");
}
