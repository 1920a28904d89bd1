//! Shared breaker state in Redis.
//!
//! Keys: `P:owners` (a set of owner ids), `P:breakers:OWNER` (a hash of breaker name to the
//! snapshot as JSON) and `P:commands:OWNER` (a list of commands as JSON, oldest first).
//! Publishing replaces an owner's hash in one MULTI; taking commands reads and deletes the
//! list in one MULTI, so a command is applied once.

use std::collections::HashMap;
use std::time::SystemTime;

use redis::Commands;

use super::{Conn, RedisStoreError};
use crate::breakers::{BreakerCommand, BreakerSnapshot, BreakerStateStore, BreakerStoreError};

/// A [`BreakerStateStore`] in Redis, shared by processes on several machines.
#[derive(Debug)]
pub struct RedisBreakerStore {
    conn: Conn,
}

impl RedisBreakerStore {
    /// Connects to `url` (`redis://host:port/db`); keys start with `prefix:`.
    pub fn open(url: &str, prefix: &str) -> Result<Self, RedisStoreError> {
        Ok(Self { conn: Conn::open(url, prefix)? })
    }

    fn hash(&self, owner: &str) -> String {
        self.conn.key(&format!("breakers:{owner}"))
    }

    fn commands(&self, owner: &str) -> String {
        self.conn.key(&format!("commands:{owner}"))
    }
}

fn backend(e: redis::RedisError) -> BreakerStoreError {
    BreakerStoreError::Backend(super::describe(&e))
}

fn ser(e: serde_json::Error) -> BreakerStoreError {
    BreakerStoreError::Serialization(e.to_string())
}

impl BreakerStateStore for RedisBreakerStore {
    fn publish(&self, owner_id: &str, snapshots: &[BreakerSnapshot]) -> Result<(), BreakerStoreError> {
        let (hash, owners) = (self.hash(owner_id), self.conn.key("owners"));
        let mut pipe = redis::pipe();
        pipe.atomic().del(&hash).ignore();
        for s in snapshots {
            pipe.hset(&hash, &s.name, serde_json::to_string(s).map_err(ser)?).ignore();
        }
        match snapshots.is_empty() {
            true => pipe.srem(&owners, owner_id).ignore(),
            false => pipe.sadd(&owners, owner_id).ignore(),
        };
        pipe.exec(&mut self.conn.get()).map_err(backend)
    }

    fn snapshots(&self) -> Result<Vec<BreakerSnapshot>, BreakerStoreError> {
        let mut c = self.conn.get();
        let owners: Vec<String> = c.smembers(self.conn.key("owners")).map_err(backend)?;
        let mut all = Vec::new();
        for owner in owners {
            let fields: HashMap<String, String> = c.hgetall(self.hash(&owner)).map_err(backend)?;
            for text in fields.values() {
                all.push(serde_json::from_str::<BreakerSnapshot>(text).map_err(ser)?);
            }
        }
        all.sort_by(|a, b| (&a.name, &a.owner.id).cmp(&(&b.name, &b.owner.id)));
        Ok(all)
    }

    fn send_command(
        &self,
        owner_id: &str,
        name: &str,
        command: BreakerCommand,
    ) -> Result<(), BreakerStoreError> {
        let text = serde_json::to_string(&(name, command)).map_err(ser)?;
        let _: u64 = self.conn.get().rpush(self.commands(owner_id), text).map_err(backend)?;
        Ok(())
    }

    fn take_commands(&self, owner_id: &str) -> Result<Vec<(String, BreakerCommand)>, BreakerStoreError> {
        let key = self.commands(owner_id);
        let (texts,): (Vec<String>,) = redis::pipe()
            .atomic()
            .lrange(&key, 0, -1)
            .del(&key)
            .ignore()
            .query(&mut self.conn.get())
            .map_err(backend)?;
        texts.iter().map(|t| serde_json::from_str(t).map_err(ser)).collect()
    }

    fn remove_older_than(&self, cutoff: SystemTime) -> Result<usize, BreakerStoreError> {
        let stale: Vec<BreakerSnapshot> =
            self.snapshots()?.into_iter().filter(|s| s.updated_at < cutoff).collect();
        let mut c = self.conn.get();
        for s in &stale {
            let _: u64 = c.hdel(self.hash(&s.owner.id), &s.name).map_err(backend)?;
            let left: u64 = c.hlen(self.hash(&s.owner.id)).map_err(backend)?;
            if left == 0 {
                let _: u64 = c.srem(self.conn.key("owners"), &s.owner.id).map_err(backend)?;
            }
        }
        Ok(stale.len())
    }
}
