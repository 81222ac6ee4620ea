//! The daily insights job (SPEC §9.2, §15: 06:00): each workspace's facts, computed once, kept
//! for each person who reaches it; with AI configured, a few ideas from the model on top. Facts
//! carry keys, so a second run the same day — or the next day, for the same birthday — adds
//! nothing new.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::domain::actor::{Actor, Via};
use crate::domain::insights::{self, Fact};
use crate::domain::workspace;
use crate::schedule::{self, TimeOfDay};
use crate::state::AppState;
use crate::storage;

pub const RUN_AT: &str = "06:00";

pub fn next_after(after: Timestamp, config: &crate::config::Config) -> anyhow::Result<Timestamp> {
    let at = TimeOfDay::parse(RUN_AT).map_err(|e| anyhow::anyhow!(e))?;
    Ok(schedule::next_daily(after, at, &config.time_zone()?))
}

pub async fn run(state: &AppState) -> anyhow::Result<String> {
    run_at(state, state.clock.now()).await
}

/// Runs as if it were `now` (tests give a fixed clock).
pub async fn run_at(state: &AppState, now: Timestamp) -> anyhow::Result<String> {
    let mut by_workspace: HashMap<String, Vec<Fact>> = HashMap::new();
    let mut problems = Vec::new();
    let (mut added, mut people) = (0, 0);
    for user in storage::users::list(&state.db).await?.into_iter().map(|u| u.id) {
        let actor = Actor::person(user.clone(), Via::Job);
        people += 1;
        for ws in workspace::list(&state.db, &actor).await? {
            let key = ws.id().to_string();
            if !by_workspace.contains_key(&key) {
                let today = now.to_zoned(ws.time_zone(&state.config)?).date();
                let mut facts = insights::facts(state, &ws, today, now).await?;
                if let Some(prompt) = insights::ideas_prompt(&facts) {
                    match crate::domain::ai::ask_for_system(state, &ws, &prompt).await {
                        Ok(Some(answer)) => facts.extend(insights::ideas_from(&answer, today)),
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(workspace = %ws.id(), error = %e, "AI ideas for insights failed");
                            problems.push(format!("AI ideas for \"{}\": {e}", ws.name()));
                        }
                    }
                }
                by_workspace.insert(key.clone(), facts);
            }
            added += insights::keep(state, &user, &ws, &by_workspace[&key]).await?;
        }
    }
    let mut line = format!(
        "{added} new insights for {people} people from {} workspaces",
        by_workspace.len()
    );
    if !problems.is_empty() {
        line.push_str(&format!(" ({})", problems.join("; ")));
    }
    Ok(line)
}
