//! `serve` under crashes and company, from the outside: killed with SIGKILL again and again
//! while another process enqueues through the library and the soak through `serve`'s own
//! `POST /api/queue` (SQLite and Redis), and two servers, or a server and a library process,
//! on one data directory.

mod crash;
mod enqueuer;
mod ledger;
mod poster;
mod shared_dir;
mod support;
