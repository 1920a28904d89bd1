//! The binary from the outside: every command, exit codes, the malformed-config corpus, and
//! end to end (serving on a free port, scraped, rendered, stopped with SIGTERM).

mod cli;
mod e2e;
mod stop;
