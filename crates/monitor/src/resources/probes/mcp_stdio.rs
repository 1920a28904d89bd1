//! A stdio MCP server started for one sample: in its own process group, so that whatever it
//! starts (`sh -c`, `npx`, a wrapper script) ends with it, and with the last lines of its
//! stderr kept for the reason when it fails.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
use tokio::task::JoinHandle;

use crate::resources::ProbeError;

/// How long the group has to exit after SIGTERM before it gets SIGKILL.
pub(crate) const TERM_GRACE: Duration = Duration::from_millis(500);
/// How long the stderr reader may take to see the end of the output once the group is gone.
const STDERR_DRAIN: Duration = Duration::from_millis(200);
/// The stderr lines kept, and the most bytes they may hold.
const TAIL_LINES: usize = 5;
const TAIL_BYTES: usize = 1024;

/// The last lines a server wrote to stderr.
#[derive(Debug, Default)]
struct Tail(VecDeque<String>);

impl Tail {
    fn push(&mut self, line: &str) {
        let line = line.trim_end();
        if line.is_empty() {
            return;
        }
        self.0.push_back(truncate(line, TAIL_BYTES).to_owned());
        while self.0.len() > TAIL_LINES || (self.0.len() > 1 && self.bytes() > TAIL_BYTES) {
            self.0.pop_front();
        }
    }

    fn bytes(&self) -> usize {
        self.0.iter().map(String::len).sum()
    }

    fn text(&self) -> String {
        self.0.iter().cloned().collect::<Vec<_>>().join(" | ")
    }
}

/// The last `max` bytes of `line`, cut at a character boundary.
fn truncate(line: &str, max: usize) -> &str {
    let mut start = line.len().saturating_sub(max);
    while !line.is_char_boundary(start) {
        start += 1;
    }
    &line[start..]
}

/// A running stdio server. Ending it (or dropping it) ends its whole process group.
#[derive(Debug)]
pub(crate) struct StdioServer {
    child: Option<Child>,
    pgid: Option<i32>,
    tail: Arc<Mutex<Tail>>,
    reader: Option<JoinHandle<()>>,
}

impl StdioServer {
    /// Starts `command args…` as the leader of a new process group, stdin and stdout piped for
    /// the transport, stderr read into the tail.
    pub(crate) fn spawn(
        command: &str,
        args: &[String],
    ) -> Result<(Self, ChildStdout, ChildStdin), ProbeError> {
        let mut cmd = Command::new(command);
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child =
            cmd.spawn().map_err(|e| ProbeError::Failed(format!("cannot start `{command}`: {e}")))?;
        let pgid = child.id().and_then(|id| i32::try_from(id).ok());
        let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
            return Err(ProbeError::Failed(format!("`{command}`: no stdio pipes")));
        };
        let tail = Arc::new(Mutex::new(Tail::default()));
        let reader = child.stderr.take().map(|err| tokio::spawn(read_tail(err, tail.clone())));
        Ok((Self { child: Some(child), pgid, tail, reader }, stdout, stdin))
    }

    /// Ends the group (SIGTERM, then SIGKILL after [`TERM_GRACE`]), reaps the leader and
    /// returns the last lines of stderr, if any.
    pub(crate) async fn end(mut self) -> Option<String> {
        if let Some(mut child) = self.child.take() {
            signal(self.pgid, Signal::Term);
            let _ = tokio::time::timeout(TERM_GRACE, child.wait()).await;
            signal(self.pgid, Signal::Kill);
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
        if let Some(reader) = self.reader.take() {
            let _ = tokio::time::timeout(STDERR_DRAIN, reader).await;
        }
        let text = lock(&self.tail).text();
        (!text.is_empty()).then_some(text)
    }
}

impl Drop for StdioServer {
    /// A sample cut short still ends the group: SIGTERM now, SIGKILL after the grace (at once
    /// when no runtime is left to wait on).
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let pgid = self.pgid;
        signal(pgid, Signal::Term);
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    let _ = tokio::time::timeout(TERM_GRACE, child.wait()).await;
                    signal(pgid, Signal::Kill);
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                });
            }
            Err(_) => {
                signal(pgid, Signal::Kill);
                let _ = child.start_kill();
            }
        }
        if let Some(reader) = self.reader.take() {
            reader.abort();
        }
    }
}

async fn read_tail(stderr: ChildStderr, tail: Arc<Mutex<Tail>>) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        lock(&tail).push(&line);
    }
}

fn lock(tail: &Mutex<Tail>) -> std::sync::MutexGuard<'_, Tail> {
    tail.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug, Clone, Copy)]
enum Signal {
    Term,
    Kill,
}

/// Sends `sig` to the process group `pgid`; a group already gone is no error.
#[cfg(unix)]
fn signal(pgid: Option<i32>, sig: Signal) {
    use nix::sys::signal::{Signal as Sig, killpg};
    let Some(pgid) = pgid.filter(|p| *p > 1) else { return };
    let sig = match sig {
        Signal::Term => Sig::SIGTERM,
        Signal::Kill => Sig::SIGKILL,
    };
    if let Err(e) = killpg(nix::unistd::Pid::from_raw(pgid), sig)
        && e != nix::errno::Errno::ESRCH
    {
        tracing::debug!(pgid, error = %e, "cannot signal the MCP server's process group");
    }
}

/// Without process groups only the leader is ended (by the caller's kill).
#[cfg(not(unix))]
fn signal(_pgid: Option<i32>, _sig: Signal) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_lines_within_its_byte_budget() {
        let mut tail = Tail::default();
        (1..=7).for_each(|n| tail.push(&format!("line {n}\n")));
        assert_eq!(tail.text(), "line 3 | line 4 | line 5 | line 6 | line 7");
        tail.push(&"x".repeat(5000));
        assert_eq!(tail.text(), "x".repeat(TAIL_BYTES));
        assert_eq!(truncate("héllo", 4), "llo");
    }
}
