//! # elf-resilience-server
//!
//! The `elf-resilience` binary's parts, as a library so they can be tested without a socket:
//! the config file ([`config`]), the HTTP surface ([`http::app`]), the commands, the server
//! ([`serve`]) and the demo ([`demo`]).

pub mod checks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod exit;
pub mod gauges;
pub mod http;
pub mod metric_help;
pub mod offload;
pub mod redact;
pub mod replay;
pub mod serve;
pub mod shared;
pub mod state;
pub mod stores;
pub mod wiring;
