//! Resource manager, probes and health monitor.
