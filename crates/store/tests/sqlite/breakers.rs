use std::sync::Arc;
use std::time::Duration;

use elf_resilience_core::{CircuitBreakerRegistry, Clock, ManualClock};
use elf_resilience_store::{
    BreakerCommand, BreakerPublisher, BreakerStateStore, Owner, SqliteBreakerStore, breaker_store_conformance,
};

#[test]
fn the_sqlite_breaker_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    breaker_store_conformance(&SqliteBreakerStore::open(dir.path().join("b.db")).unwrap());
}

/// Two registries stand for two processes sharing one file: each sees the other's breakers,
/// and a command sent to one is applied by its own publisher only.
#[test]
fn two_publishers_share_one_file_and_apply_their_own_commands() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("breakers.db");
    let clock = ManualClock::new();
    let (ra, rb) = (Arc::new(CircuitBreakerRegistry::default()), Arc::new(CircuitBreakerRegistry::default()));
    ra.get_or_create("openai");
    rb.get_or_create("openai");
    rb.get_or_create("postgres");
    let open = |id: &str, r: &Arc<CircuitBreakerRegistry>| {
        let store = Arc::new(SqliteBreakerStore::open(&path).unwrap());
        BreakerPublisher::new(r.clone(), store).owner(Owner::named(id)).clock(clock.shared())
    };
    let (a, b) = (open("proc-a", &ra), open("proc-b", &rb));
    assert_eq!(a.tick().unwrap().published, 1);
    clock.advance(Duration::from_secs(3));
    assert_eq!(b.tick().unwrap().published, 2);

    let reader = SqliteBreakerStore::open(&path).unwrap();
    let all = reader.snapshots().unwrap();
    let seen: Vec<_> = all.iter().map(|s| (s.name.as_str(), s.owner.id.as_str())).collect();
    assert_eq!(seen, [("openai", "proc-a"), ("openai", "proc-b"), ("postgres", "proc-b")]);
    assert_eq!(all[0].owner.pid, std::process::id());
    assert_eq!(all[0].age(clock.wall()), Duration::from_secs(3));
    assert_eq!(all[0].stats["total_calls"], 0);

    reader.send_command("proc-b", "openai", BreakerCommand::Trip).unwrap();
    reader.send_command("proc-b", "gone", BreakerCommand::Reset).unwrap();
    let tick = a.tick().unwrap();
    assert_eq!((tick.applied, tick.unknown), (0, 0), "proc-a gets no command for proc-b");
    assert!(!ra.get("openai").unwrap().state().is_open());
    let tick = b.tick().unwrap();
    assert_eq!((tick.applied, tick.unknown), (1, 1));
    assert!(rb.get("openai").unwrap().state().is_open(), "the owner applied the trip");
    let states: Vec<_> = reader.snapshots().unwrap().into_iter().map(|s| s.state).collect();
    assert_eq!(states, ["closed", "open", "closed"], "and published its new state");

    reader.send_command("proc-b", "openai", BreakerCommand::Reset).unwrap();
    b.tick().unwrap();
    assert!(!rb.get("openai").unwrap().state().is_open());
}

#[tokio::test(start_paused = true)]
async fn a_spawned_publisher_ticks_and_withdraws_on_stop() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteBreakerStore::open(dir.path().join("b.db")).unwrap());
    let registry = Arc::new(CircuitBreakerRegistry::default());
    registry.get_or_create("search");
    let handle = BreakerPublisher::new(registry.clone(), store.clone())
        .owner(Owner::named("p"))
        .spawn(Duration::from_secs(5));
    // The first tick is immediate, on a blocking thread (paused time waits for it).
    let until = std::time::Instant::now() + Duration::from_secs(20);
    while store.snapshots().unwrap().is_empty() {
        assert!(std::time::Instant::now() < until, "the first tick never published");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(store.snapshots().unwrap().len(), 1);
    store.send_command("p", "search", BreakerCommand::Trip).unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(!registry.get("search").unwrap().state().is_open(), "not before the next tick");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(registry.get("search").unwrap().state().is_open(), "applied on the next tick");
    handle.stop().await;
    assert!(store.snapshots().unwrap().is_empty(), "a stopped publisher withdraws");
}

#[test]
fn stale_snapshots_can_be_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteBreakerStore::open(dir.path().join("b.db")).unwrap());
    let clock = ManualClock::new();
    let registry = Arc::new(CircuitBreakerRegistry::default());
    registry.get_or_create("x");
    BreakerPublisher::new(registry, store.clone()).clock(clock.shared()).tick().unwrap();
    clock.advance(Duration::from_secs(60));
    assert_eq!(store.remove_older_than(clock.wall() - Duration::from_secs(61)).unwrap(), 0);
    assert_eq!(store.remove_older_than(clock.wall() - Duration::from_secs(30)).unwrap(), 1);
    assert!(store.snapshots().unwrap().is_empty());
}
