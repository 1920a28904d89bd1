//! Health monitor (in progress).
