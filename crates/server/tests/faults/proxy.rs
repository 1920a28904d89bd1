//! [`TcpProxy`]: a loopback TCP proxy in front of a real server (PostgreSQL, Redis), to make
//! it stop answering, answer late, or drop every connection, while the test runs.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with the bytes it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Forwards them, each chunk after `delay`.
    Pass { delay: Duration },
    /// Holds them: connections stay open and nothing is answered (a stalled server).
    Pause,
}

/// The shared switch: the mode, and a generation that [`TcpProxy::close_all`] bumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Switch {
    mode: Mode,
    generation: u64,
}

/// A proxy on `127.0.0.1:PORT` forwarding to `upstream`; it stops when dropped.
#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    switch: watch::Sender<Switch>,
    accepting: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// Starts a proxy passing traffic to `upstream` without delay.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (switch, _) =
            watch::channel(Switch { mode: Mode::Pass { delay: Duration::ZERO }, generation: 0 });
        let accepting = tokio::spawn(accept(listener, upstream, switch.clone()));
        Self { addr, switch, accepting }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Holds every byte from now on, in both directions, on open and new connections.
    pub fn pause(&self) {
        self.switch.send_modify(|s| s.mode = Mode::Pause);
    }

    /// Forwards each chunk `delay` late.
    pub fn delay(&self, delay: Duration) {
        self.switch.send_modify(|s| s.mode = Mode::Pass { delay });
    }

    /// Passes traffic again at once (held bytes included).
    pub fn resume(&self) {
        self.delay(Duration::ZERO);
    }

    /// Drops every open connection (clients see them closed); new ones are still accepted.
    pub fn close_all(&self) {
        self.switch.send_modify(|s| s.generation += 1);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accepting.abort();
        self.close_all();
    }
}

async fn accept(listener: TcpListener, upstream: SocketAddr, switch: watch::Sender<Switch>) {
    while let Ok((client, _)) = listener.accept().await {
        tokio::spawn(connection(client, upstream, switch.subscribe()));
    }
}

/// One client: connects upstream, then pumps both ways until either side closes or
/// [`TcpProxy::close_all`] is called.
async fn connection(client: TcpStream, upstream: SocketAddr, switch: watch::Receiver<Switch>) {
    let born = switch.borrow().generation;
    let mut closing = switch.clone();
    let closed = async move {
        let _ = closing.wait_for(|s| s.generation != born).await;
    };
    let pumped = async move {
        let Ok(server) = TcpStream::connect(upstream).await else { return };
        let ((cr, cw), (sr, sw)) = (client.into_split(), server.into_split());
        tokio::select! {
            () = pump(cr, sw, switch.clone()) => {},
            () = pump(sr, cw, switch) => {},
        }
    };
    tokio::select! {
        () = closed => {},
        () = pumped => {},
    }
}

/// Copies `from` to `to` chunk by chunk, each when the switch lets it through.
async fn pump(
    mut from: impl AsyncReadExt + Unpin,
    mut to: impl AsyncWriteExt + Unpin,
    mut switch: watch::Receiver<Switch>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let Ok(mode) = switch.wait_for(|s| s.mode != Mode::Pause).await.map(|s| s.mode) else { return };
        let Mode::Pass { delay } = mode else { return };
        tokio::time::sleep(delay).await;
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
