//! `queue list | replay | purge | drop TICKET | requeue TICKET`, straight on the queue (the SQLite file, or Redis with
//! `[storage] redis_url`; no server needed).

use std::time::SystemTime;

use elf_resilience::{QueueError, RequestQueue, Ticket, TicketStatus};

use crate::cli::QueueAction;
use crate::config::Config;
use crate::stores::Stores;

/// Runs one queue action.
pub fn run(config: &Config, action: &QueueAction) -> anyhow::Result<()> {
    let stores = Stores::open(config)?;
    let q = stores.queue.as_ref();
    match action {
        QueueAction::List { json, status, limit, after } => {
            let after = after.clone().map(Ticket);
            let limit = usize::try_from(*limit).unwrap_or(usize::MAX);
            list(q, &Listing { status: *status, limit, after }, *json)
        }
        QueueAction::Replay => {
            let n = stores.replay_all(SystemTime::now())?;
            println!("{n} request(s) ready for delivery");
            Ok(())
        }
        QueueAction::Purge { all } => {
            let mut statuses = vec![TicketStatus::Done, TicketStatus::DeadLettered];
            if *all {
                statuses.extend([TicketStatus::Pending, TicketStatus::Leased]);
            }
            let n: usize = statuses.into_iter().map(|s| q.purge(s)).sum::<Result<usize, _>>()?;
            println!("purged {n} request(s)");
            Ok(())
        }
        QueueAction::Drop { ticket } => {
            let ticket = Ticket(ticket.clone());
            anyhow::ensure!(stores.remove(&ticket)?, "no request with ticket {ticket}");
            println!("dropped {ticket}");
            Ok(())
        }
        QueueAction::Requeue { ticket } => {
            let ticket = Ticket(ticket.clone());
            anyhow::ensure!(stores.requeue(&ticket, SystemTime::now())?, "no request with ticket {ticket}");
            println!("{ticket} is ready for delivery");
            Ok(())
        }
    }
}

/// Which page `queue list` shows.
struct Listing {
    status: Option<TicketStatus>,
    limit: usize,
    after: Option<Ticket>,
}

fn list(q: &dyn RequestQueue, which: &Listing, json: bool) -> anyhow::Result<()> {
    let items = match q.page(which.status, which.after.as_ref(), which.limit) {
        Err(QueueError::UnknownTicket(t)) => {
            anyhow::bail!("unknown ticket `{t}` for --after: pass a ticket that `queue list` shows")
        }
        other => other?,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    println!(
        "{:12} {:20} {:14} {:>8} {:>10}  last error",
        "ticket", "handler", "status", "failed", "deliveries"
    );
    for r in &items {
        let failed = format!("{}/{}", r.failures(), r.max_attempts);
        let err = r.last_error.as_deref().unwrap_or("");
        println!(
            "{:12} {:20} {:14} {failed:>8} {:>10}  {err}",
            r.ticket.0,
            r.handler,
            r.status.as_str(),
            r.attempts
        );
    }
    if items.is_empty() && which.status.is_none() && which.after.is_none() {
        println!("(queue is empty)");
    } else if items.is_empty() {
        println!("(no requests on this page)");
    } else if items.len() == which.limit {
        let last = items.last().map(|r| r.ticket.0.as_str()).unwrap_or_default();
        println!("(more may follow: --after {last})");
    }
    Ok(())
}
