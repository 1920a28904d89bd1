//! Integration pattern 2: database operations with retry, cache fallback and a breaker, against
//! a real SQLite file, and PostgreSQL when `ELF_TEST_POSTGRES_URL` is set.
//!
//! Run with `cargo run -p elf-resilience --example integration_database`.

use std::error::Error;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use elf_resilience::{
    CircuitBreaker, CircuitBreakerRegistry, FallbackProtocol, FixedDelay, InMemoryCache, with_fallback,
};
use rusqlite::Connection;

type BoxError = Box<dyn Error + Send + Sync>;

fn db_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("elf-fallback-example-{}.db", std::process::id()))
}

fn db() -> &'static Mutex<Connection> {
    static DB: OnceLock<Mutex<Connection>> = OnceLock::new();
    DB.get_or_init(|| {
        let conn = Connection::open(db_path()).expect("open sqlite");
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, name TEXT);
             INSERT OR REPLACE INTO users VALUES (1, 'ada'), (2, 'grace');",
        )
        .expect("schema");
        Mutex::new(conn)
    })
}

// 1. retry with backoff on errors, 2. return cached data if available, 3. open the circuit.
#[with_fallback(Database, strategies = [Retry, UseCache, CircuitBreak], cache_key = format!("user:{user_id}"))]
fn get_user_data(user_id: i64) -> Result<String, BoxError> {
    let conn = db().lock().map_err(|_| "poisoned")?;
    Ok(conn.query_row("SELECT name FROM users WHERE id = ?1", [user_id], |row| row.get(0))?)
}

async fn postgres(url: &str) -> Result<(), BoxError> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let protocol = FallbackProtocol::global();
    let run = |sql: &'static str| {
        let client = &client;
        protocol.execute_with_fallback(
            elf_resilience::Context::new(),
            elf_resilience::ResourceType::Database,
            move |_| async move { client.query_one(sql, &[]).await.map(|row| row.get::<_, i32>(0)) },
        )
    };
    println!("postgres ok      -> {:?}", run("SELECT 41 + 1").await.map(|o| o.into_value()));
    let failed = run("SELECT missing FROM nowhere").await.map(|o| o.into_value());
    println!("postgres failing -> {}", failed.map_or_else(|e| e.to_string(), |v| format!("{v:?}")));
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let breakers = Arc::new(CircuitBreakerRegistry::new(CircuitBreaker::builder().failure_threshold(3))?);
    let protocol = FallbackProtocol::builder()
        .cache(Arc::new(InMemoryCache::new(10_000)?), Duration::from_secs(60), Duration::from_secs(3_600))
        .breakers(breakers)
        .retry_backoff(FixedDelay::new().with_max_retries(2).with_delay(Duration::from_millis(5)))
        .build()?;
    FallbackProtocol::set_global(protocol);

    println!("sqlite up        -> {}", get_user_data(1)?);
    db().lock().map_err(|_| "poisoned")?.execute_batch("ALTER TABLE users RENAME TO users_moved")?;
    println!("sqlite failing   -> {} (from cache)", get_user_data(1)?);
    for _ in 0..2 {
        println!("uncached user 2  -> {}", get_user_data(2).unwrap_err());
    }
    match std::env::var("ELF_TEST_POSTGRES_URL") {
        Ok(url) => postgres(&url).await?,
        Err(_) => println!("ELF_TEST_POSTGRES_URL not set: skipping the PostgreSQL part"),
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db_path().display()));
    }
    Ok(())
}
