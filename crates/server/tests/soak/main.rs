//! `serve` under crashes and company, from the outside: killed with SIGKILL again and again
//! while another process enqueues (SQLite and Redis), and two servers, or a server and a
//! library process, on one data directory.

mod crash;
mod enqueuer;
mod shared_dir;
mod support;
