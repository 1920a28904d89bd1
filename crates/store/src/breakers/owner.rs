//! Which process a breaker belongs to.

use serde::{Deserialize, Serialize};

/// A process that publishes breakers: an id unique among the publishers, its pid and host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Owner {
    /// Unique among publishers; `host:pid` for [`Owner::this_process`].
    pub id: String,
    /// The process id.
    pub pid: u32,
    /// The host name.
    pub host: String,
}

impl Owner {
    /// This process: id `host:pid`.
    ///
    /// ```
    /// let me = elf_resilience_store::Owner::this_process();
    /// assert_eq!(me.pid, std::process::id());
    /// assert_eq!(me.id, format!("{}:{}", me.host, me.pid));
    /// ```
    pub fn this_process() -> Self {
        let host = host_name();
        let pid = std::process::id();
        Self { id: format!("{host}:{pid}"), pid, host }
    }

    /// This process under another id: for several publishers in one process.
    pub fn named(id: impl Into<String>) -> Self {
        Self { id: id.into(), ..Self::this_process() }
    }
}

/// The kernel's host name, else `$HOSTNAME`, else `localhost`.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
