//! `serve` evicts the response cache in the background.

use std::time::{Duration, SystemTime};

use elf_resilience::{ResponseCache, SqliteCache};
use elf_resilience_server::config::Config;
use elf_resilience_server::redact::Redactor;
use elf_resilience_server::serve;

#[tokio::test]
async fn serve_evicts_answers_past_their_ttl_and_staleness() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[storage]\ndata_dir = {:?}\ncache_max_staleness = \"1h\"\ncache_evict_interval = \"1h\"\n\
         [server]\nbind = \"127.0.0.1:0\"\ntoken = \"tok-evict-0123456789\"\n[health]\ndefault_checks = false\n",
        dir.path().display().to_string()
    );
    let config = Config::parse(&text, std::path::Path::new("t.toml")).unwrap();
    let cache = SqliteCache::open(dir.path().join("cache.db")).unwrap();
    let now = SystemTime::now();
    let ttl = Duration::from_secs(60);
    cache.put("old", serde_json::json!("gone"), now - Duration::from_secs(2 * 3600), ttl).unwrap();
    cache.put("stale", serde_json::json!("kept"), now - Duration::from_secs(1800), ttl).unwrap();
    let running = serve::start(&config, config.server.bind(), Redactor::default()).await.unwrap();
    let evicted = async {
        while cache.get("old", now, Duration::from_secs(86_400)).unwrap().is_some() {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), evicted).await.expect("the first pass runs at start");
    let kept = cache.get("stale", now, Duration::from_secs(3600)).unwrap();
    assert_eq!(kept.map(|v| v.value), Some(serde_json::json!("kept")), "still within its staleness");
    running.shutdown().await.unwrap();
}
