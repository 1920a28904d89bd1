//! The quota tracker and the in-memory usage ledger.

mod memory;
mod throughput;
mod tracker;
