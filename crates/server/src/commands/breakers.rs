//! `breakers list | trip NAME | reset NAME`: breakers live in the running server, so these talk
//! to it over HTTP.

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::cli::BreakerAction;
use crate::config::Config;
use crate::wiring::token;

/// Runs one breaker action against the server at `server` (default: the configured bind).
pub async fn run(
    config: &Config,
    action: Option<&BreakerAction>,
    server: Option<&str>,
) -> anyhow::Result<()> {
    let base = server
        .map_or_else(|| format!("http://{}", config.server.bind()), |s| s.trim_end_matches('/').to_owned());
    let client = reqwest::Client::new();
    match action {
        None | Some(BreakerAction::List { json: false }) => print_list(&get(&client, &base).await?),
        Some(BreakerAction::List { json: true }) => {
            println!("{}", serde_json::to_string_pretty(&get(&client, &base).await?)?)
        }
        Some(BreakerAction::Trip { name }) => change(config, &client, &base, name, "trip").await?,
        Some(BreakerAction::Reset { name }) => change(config, &client, &base, name, "reset").await?,
    }
    Ok(())
}

async fn get(client: &reqwest::Client, base: &str) -> anyhow::Result<Value> {
    let url = format!("{base}/api/breakers");
    let r =
        client.get(&url).send().await.with_context(|| {
            format!("no server answering at {base} (start one with `elf-resilience serve`)")
        })?;
    Ok(r.error_for_status()?.json().await?)
}

async fn change(
    config: &Config,
    client: &reqwest::Client,
    base: &str,
    name: &str,
    action: &str,
) -> anyhow::Result<()> {
    let token = token(config, &config.storage.data_dir())?;
    let url = format!("{base}/api/breakers/{name}/{action}");
    let r =
        client.post(&url).bearer_auth(token.expose()).send().await.with_context(|| {
            format!("no server answering at {base} (start one with `elf-resilience serve`)")
        })?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("server refused ({status}): {}", body["error"].as_str().unwrap_or("no reason given"));
    }
    match body["sent_to"].as_array() {
        Some(owners) => {
            let owners: Vec<&str> = owners.iter().filter_map(Value::as_str).collect();
            println!("{name}: {action} sent to {} (applied on its next publish)", owners.join(", "));
        }
        None => println!("{name}: {}", body["state"].as_str().unwrap_or("?")),
    }
    Ok(())
}

fn print_list(list: &Value) {
    let items = list.as_array().map(Vec::as_slice).unwrap_or_default();
    println!(
        "{:24} {:10} {:>7} {:>7} {:>9} {:>8}  owner",
        "name", "state", "calls", "failed", "rejected", "success"
    );
    for b in items {
        println!(
            "{:24} {:10} {:>7} {:>7} {:>9} {:>7.1}%  {}",
            b["name"].as_str().unwrap_or("?"),
            b["state"].as_str().unwrap_or("?"),
            b["total_calls"].as_u64().unwrap_or(0),
            b["failed_calls"].as_u64().unwrap_or(0),
            b["rejected_calls"].as_u64().unwrap_or(0),
            b["success_rate"].as_f64().unwrap_or(0.0),
            owner(b)
        );
    }
    if items.is_empty() {
        println!("(no circuit breakers)");
    }
}

/// `this process`, or the owner's id with the snapshot's age (and `stale`).
fn owner(b: &Value) -> String {
    if b["local"].as_bool().unwrap_or(true) {
        return "server".to_owned();
    }
    let id = b["owner"]["id"].as_str().unwrap_or("?");
    let age = b["age"].as_f64().unwrap_or(0.0);
    let stale = if b["stale"].as_bool().unwrap_or(false) { ", stale" } else { "" };
    format!("{id} ({age:.0} s ago{stale})")
}
