//! Wrong macro arguments fail to compile with a clear message at the right place; the
//! documented forms compile.

mod attributes;
mod fallback;
mod pass;

use std::sync::Mutex;

/// trybuild builds its cases in one shared project directory: one suite at a time.
static TRYBUILD: Mutex<()> = Mutex::new(());
