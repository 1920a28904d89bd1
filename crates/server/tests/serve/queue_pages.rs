//! `GET /api/queue` against a real `serve`: pages with a cursor, counts, bad queries refused
//! with a JSON error, and payloads shown only with the bearer token.

use std::path::Path;
use std::time::{Duration, SystemTime};

use elf_resilience::{EnqueueRequest, RequestQueue, SqliteQueue};
use elf_resilience_server::config::Config;
use elf_resilience_server::redact::Redactor;
use elf_resilience_server::serve;
use serde_json::{Value, json};

const TOKEN: &str = "tok-queue-pages-0123456789";

async fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_queue_pages_counts_and_hides_payloads_without_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let queue = SqliteQueue::open(data.join("queue.db")).unwrap();
    let now = SystemTime::now();
    let mut tickets = Vec::new();
    for n in 0..5 {
        let payload = json!({"prompt": format!("secret-words-{n}")});
        tickets.push(queue.enqueue(EnqueueRequest::new("llm", payload), now).unwrap());
    }
    queue.lease(None, now, Duration::from_secs(3600)).unwrap().unwrap();
    let text = format!(
        "[storage]\ndata_dir = {data:?}\n[server]\nbind = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n\
         [health]\ndefault_checks = false\n"
    );
    let config = Config::parse(&text, Path::new("pages.toml")).unwrap();
    let running =
        serve::start(&config, config.server.bind(), Redactor::from_config(&config, &[])).await.unwrap();
    let base = format!("http://{}/api/queue", running.addr);

    let (code, first) = get(&format!("{base}?limit=2"), None).await;
    assert_eq!(code, 200, "{first}");
    assert_eq!(first["counts"], json!({"pending": 4, "leased": 1, "done": 0, "dead_lettered": 0}));
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["next"], tickets[1].0, "the cursor is the last ticket on the page");
    let bytes = json!({"prompt": "secret-words-0"}).to_string().len();
    assert_eq!(first["items"][0]["payload"], json!({"redacted": true, "bytes": bytes}));
    assert_eq!(first["items"][0]["context"]["redacted"], true);
    assert_eq!(first["revealed"], false);
    assert!(!first.to_string().contains("secret-words"), "{first}");

    let mut seen: Vec<String> = Vec::new();
    let mut next = Value::Null;
    loop {
        let after = next.as_str().map(|t| format!("&after={t}")).unwrap_or_default();
        let (code, page) = get(&format!("{base}?limit=2{after}"), None).await;
        assert_eq!(code, 200, "{page}");
        seen.extend(
            page["items"].as_array().unwrap().iter().map(|r| r["ticket"].as_str().unwrap().to_owned()),
        );
        next = page["next"].clone();
        if next.is_null() {
            break;
        }
    }
    let all: Vec<String> = tickets.iter().map(|t| t.0.clone()).collect();
    assert_eq!(seen, all, "pages of 2 walk every request once, oldest first");

    let (_, pending) = get(&format!("{base}?status=pending&limit=1000"), None).await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 4);
    assert_eq!(pending["items"][0]["ticket"], tickets[1].0, "the leased one is not pending");
    assert_eq!(pending["next"], Value::Null);

    let (code, shown) = get(&format!("{base}?limit=1"), Some(TOKEN)).await;
    assert_eq!(code, 200, "{shown}");
    assert_eq!(shown["items"][0]["payload"], json!({"prompt": "secret-words-0"}));
    assert_eq!(shown["revealed"], true);
    let (code, refused) = get(&format!("{base}?limit=1"), Some("not-the-token")).await;
    assert_eq!((code, refused["error"].as_str()), (401, Some("missing or invalid bearer token")));

    for (query, says) in [
        ("limit=0", "bad limit `0`"),
        ("limit=5000", "from 1 to 1000"),
        ("limit=many", "bad limit `many`"),
        ("status=finished", "unknown status `finished`"),
        ("after=not-a-ticket", "unknown cursor `not-a-ticket`"),
    ] {
        let (code, error) = get(&format!("{base}?{query}"), None).await;
        assert_eq!(code, 400, "{query}: {error}");
        assert!(error["error"].as_str().unwrap().contains(says), "{query}: {error}");
    }
    running.shutdown().await.unwrap();
}
