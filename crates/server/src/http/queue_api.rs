//! `GET /api/queue`: one page of the queue, its counts, and payloads only behind the token.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderMap, header};
use elf_resilience::{QueueCounts, QueueError, QueuedRequest, RequestQueue, Ticket, TicketStatus};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

use super::auth::require_token;
use super::error::AppError;
use crate::config::Secret;

/// Requests on a page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 100;
/// The most requests one page may hold.
pub const MAX_LIMIT: usize = 1000;

/// The fields of a request shown only with the bearer token.
const PRIVATE_FIELDS: [&str; 3] = ["payload", "context", "result"];

/// `?status=&limit=&after=` as sent; checked by [`PageQuery::parse`].
#[derive(Debug, Default, serde::Deserialize)]
pub struct RawPageQuery {
    status: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

/// Which page of the queue to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    /// Only requests in this status (every status when `None`).
    pub status: Option<TicketStatus>,
    /// At most this many requests, 1 to [`MAX_LIMIT`].
    pub limit: usize,
    /// Starting after this ticket (the `next` of the previous page).
    pub after: Option<Ticket>,
}

impl PageQuery {
    /// Checks the query string; a bad value is a 400 that says what is accepted.
    pub fn parse(query: Result<Query<RawPageQuery>, QueryRejection>) -> Result<Self, AppError> {
        let Query(raw) = query.map_err(|e| AppError::BadRequest(format!("bad query string: {e}")))?;
        let status = match raw.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(TicketStatus::parse(s).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "unknown status `{s}`: expected pending, leased, done or dead_lettered"
                ))
            })?),
        };
        let limit = match raw.limit.as_deref().filter(|s| !s.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(s) => s.parse().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "bad limit `{s}`: expected a whole number from 1 to {MAX_LIMIT}"
                ))
            })?,
        };
        let after = raw.after.filter(|s| !s.is_empty()).map(Ticket);
        Ok(Self { status, limit, after })
    }
}

/// Whether the request may see payloads: no `Authorization` header means no; a header with the
/// wrong token is refused (401) rather than silently shown less.
pub fn may_reveal(headers: &HeaderMap, token: &Secret) -> Result<bool, AppError> {
    if headers.contains_key(header::AUTHORIZATION) {
        require_token(headers, token)?;
        Ok(true)
    } else {
        Ok(false)
    }
}

/// One page, the cursor of the next (when there is one) and the counts.
#[derive(Debug)]
pub struct Page {
    /// The requests, oldest first.
    pub items: Vec<QueuedRequest>,
    /// The ticket to pass as `after` for the next page.
    pub next: Option<Ticket>,
    /// Requests per status.
    pub counts: QueueCounts,
}

/// Reads one page and the counts, off the async worker threads (the backends block), waiting
/// at most `within` (then 503 naming the queue).
pub async fn read(
    queue: Arc<dyn RequestQueue>,
    query: PageQuery,
    within: Duration,
) -> Result<Page, AppError> {
    let task =
        super::storage::blocking(super::storage::QUEUE, within, move || -> Result<Page, QueueError> {
            let mut items = queue.page(query.status, query.after.as_ref(), query.limit + 1)?;
            let next = if items.len() > query.limit {
                items.truncate(query.limit);
                items.last().map(|r| r.ticket.clone())
            } else {
                None
            };
            Ok(Page { items, next, counts: queue.counts()? })
        });
    match task.await? {
        Ok(page) => Ok(page),
        Err(QueueError::UnknownTicket(t)) => Err(AppError::BadRequest(format!(
            "unknown cursor `{t}`: pass the `next` of a previous page, or no `after` for the first"
        ))),
        Err(e) => Err(AppError::Internal(e.to_string())),
    }
}

/// `items` as JSON, with `payload`, `context` and `result` replaced by
/// `{"redacted": true, "bytes": N}` unless `reveal`.
pub fn items_json(items: &[QueuedRequest], reveal: bool) -> Value {
    let mut value = json!(items);
    if reveal {
        return value;
    }
    for item in value.as_array_mut().into_iter().flatten() {
        for field in PRIVATE_FIELDS {
            if let Some(v) = item.get_mut(field).filter(|v| !v.is_null()) {
                *v = json!({ "redacted": true, "bytes": v.to_string().len() });
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use elf_resilience::EnqueueRequest;
    use std::time::SystemTime;

    fn parse(q: &str) -> Result<PageQuery, AppError> {
        let uri: axum::http::Uri = format!("/api/queue?{q}").parse().unwrap();
        PageQuery::parse(Query::try_from_uri(&uri))
    }

    #[test]
    fn the_query_has_defaults_and_bounds() {
        let none = PageQuery { status: None, limit: DEFAULT_LIMIT, after: None };
        assert_eq!(parse("").unwrap(), none);
        assert_eq!(parse("status=&limit=&after=").unwrap(), none);
        let full = parse("status=dead_lettered&limit=1000&after=sq-9").unwrap();
        assert_eq!(full.status, Some(TicketStatus::DeadLettered));
        assert_eq!((full.limit, full.after), (1000, Some(Ticket::from("sq-9"))));
        for bad in ["limit=0", "limit=1001", "limit=ten", "limit=-1", "status=finished"] {
            assert!(matches!(parse(bad), Err(AppError::BadRequest(_))), "{bad}");
        }
    }

    #[test]
    fn private_fields_show_only_their_size() {
        let req = EnqueueRequest::new("h", json!({"prompt": "secret"}));
        let item = QueuedRequest::new(Ticket::from("1"), req, SystemTime::UNIX_EPOCH);
        let hidden = items_json(std::slice::from_ref(&item), false);
        assert_eq!(hidden[0]["payload"], json!({"redacted": true, "bytes": 19}));
        assert_eq!(hidden[0]["context"]["redacted"], true);
        assert_eq!(hidden[0]["result"], Value::Null, "no result: nothing to hide");
        assert!(!hidden.to_string().contains("secret"));
        assert_eq!(items_json(&[item], true)[0]["payload"]["prompt"], "secret");
    }
}
