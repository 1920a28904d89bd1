//! The behaviour every [`BreakerStateStore`] must have.

use std::time::{Duration, SystemTime};

use super::{BreakerCommand, BreakerSnapshot, BreakerStateStore, Owner};

fn snapshot(owner: &str, name: &str, state: &str, at_secs: u64) -> BreakerSnapshot {
    BreakerSnapshot {
        name: name.to_owned(),
        owner: Owner { id: owner.to_owned(), pid: 42, host: "host-a".to_owned() },
        state: state.to_owned(),
        stats: serde_json::json!({ "name": name, "state": state, "total_calls": 7 }),
        updated_at: SystemTime::UNIX_EPOCH + Duration::from_secs(at_secs),
    }
}

fn names(store: &dyn BreakerStateStore) -> Vec<(String, String, String)> {
    let all = store.snapshots().expect("snapshots");
    all.into_iter().map(|s| (s.name, s.owner.id, s.state)).collect()
}

/// Runs the contract against a fresh, empty store; panics on the first violation.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let store = elf_resilience_store::SqliteBreakerStore::open(dir.path().join("b.db")).unwrap();
/// elf_resilience_store::breaker_store_conformance(&store);
/// ```
pub fn breaker_store_conformance(store: &dyn BreakerStateStore) {
    const T: u64 = 1_800_000_000;
    assert!(store.snapshots().unwrap().is_empty(), "a fresh store is empty");

    let a = [snapshot("a", "openai", "open", T), snapshot("a", "claude", "closed", T)];
    store.publish("a", &a).unwrap();
    store.publish("b", &[snapshot("b", "openai", "closed", T + 5)]).unwrap();
    let row = |n: &str, o: &str, s: &str| (n.to_owned(), o.to_owned(), s.to_owned());
    assert_eq!(
        names(store),
        [row("claude", "a", "closed"), row("openai", "a", "open"), row("openai", "b", "closed")],
        "ordered by name, then owner"
    );
    let got = store.snapshots().unwrap().into_iter().find(|s| s.name == "openai" && s.owner.id == "a");
    assert_eq!(got.as_ref(), Some(&a[0]), "a snapshot round-trips whole");

    store.publish("a", &[snapshot("a", "openai", "closed", T + 10)]).unwrap();
    assert_eq!(
        names(store),
        [row("openai", "a", "closed"), row("openai", "b", "closed")],
        "publishing replaces the owner's set"
    );

    assert_eq!(store.remove_older_than(SystemTime::UNIX_EPOCH + Duration::from_secs(T + 6)).unwrap(), 1);
    assert_eq!(names(store), [row("openai", "a", "closed")], "the stale owner is gone");
    store.publish("a", &[]).unwrap();
    assert!(store.snapshots().unwrap().is_empty(), "an empty publish withdraws");

    store.send_command("a", "openai", BreakerCommand::Trip).unwrap();
    store.send_command("b", "openai", BreakerCommand::Reset).unwrap();
    store.send_command("a", "openai", BreakerCommand::Reset).unwrap();
    let cmd = |n: &str, c| (n.to_owned(), c);
    assert_eq!(
        store.take_commands("a").unwrap(),
        [cmd("openai", BreakerCommand::Trip), cmd("openai", BreakerCommand::Reset)],
        "commands come out oldest first"
    );
    assert!(store.take_commands("a").unwrap().is_empty(), "taken commands are gone");
    assert_eq!(store.take_commands("b").unwrap(), [cmd("openai", BreakerCommand::Reset)]);
    assert!(store.take_commands("nobody").unwrap().is_empty());
}
