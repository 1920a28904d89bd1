//! Tower layers over the store's backends (features `tower` and `store`).

mod fallback_sqlite;
