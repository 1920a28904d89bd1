//! Numbers in a queued payload read back exactly as they went in, however often the request is
//! stored and read (found by fuzzing: serde_json's default float parser could move a number by
//! one unit in the last place, so each write and read could change it).

use std::time::{Duration, SystemTime};

use elf_resilience_core::{EnqueueRequest, RequestQueue};
use elf_resilience_store::SqliteQueue;

/// Numbers whose shortest decimal form the fast float parser did not read back exactly.
const HARD_NUMBERS: &str =
    "[19999999e300, 1.9999999000000002e307, 2.2250738585072011e-308, 9007199254740993]";

#[test]
fn payload_numbers_survive_storage_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let queue = SqliteQueue::open(dir.path().join("queue.db")).unwrap();
    let payload: serde_json::Value = serde_json::from_str(HARD_NUMBERS).unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let ticket = queue.enqueue(EnqueueRequest::new("numbers", payload.clone()), now).unwrap();
    let stored = queue.get(&ticket).unwrap().expect("the request is stored");
    assert_eq!(stored.payload, payload, "stored as {}", serde_json::to_string(&stored.payload).unwrap());
    let again: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&stored.payload).unwrap()).unwrap();
    assert_eq!(again, payload, "a second write and read changes nothing");
}
