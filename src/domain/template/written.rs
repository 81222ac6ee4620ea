//! Placeholders in a message typed by hand. Andy writes "Hi {{ first_name }}," out of habit
//! from templates; sent as typed, Maria would read the braces. So a one-to-one message that
//! uses placeholders is filled in for its contact by the same sandbox as templates, and one
//! whose placeholders cannot be filled (an unknown name, a typo in the syntax) is refused with
//! the reason before anything is queued. Words without `{{`/`{%` go out exactly as typed.

use super::render::{Compiled, Source};
use super::{Filler, verify};
use crate::domain::actor::Actor;
use crate::domain::contact::ContactRecord;
use crate::domain::field_definition;
use crate::domain::messaging::Channel;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Whether `text` asks for anything to be filled in.
pub fn uses_placeholders(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// `subject` and `body` as `contact` receives them: each filled in where it uses placeholders.
pub async fn fill(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactRecord,
    subject: &str,
    body: &str,
) -> AppResult<(String, String)> {
    if !uses_placeholders(subject) && !uses_placeholders(body) {
        return Ok((subject.to_string(), body.to_string()));
    }
    let fields = field_definition::applicable(&state.db, ws).await?;
    let mut problems = Vec::new();
    let mut compiled = Vec::new();
    for (part, text) in [("subject", subject), ("body", body)] {
        if !uses_placeholders(text) {
            compiled.push(None);
            continue;
        }
        // Plain text either way (a hand-written email's HTML is made from its text after).
        let source = Source {
            channel: Channel::Text,
            subject: "",
            preheader: "",
            body: text,
        };
        match verify(&source, &fields) {
            Ok(c) => compiled.push(Some(c)),
            Err(e) => {
                problems.extend(named(e, part));
                compiled.push(None);
            }
        }
    }
    if !problems.is_empty() {
        return Err(AppError::InvalidMany(problems));
    }
    let mut out = [subject.to_string(), body.to_string()];
    for (slot, c) in out.iter_mut().zip(compiled) {
        if let Some(c) = c {
            *slot = filled(state, actor, ws, contact, c, fields.clone()).await?;
        }
    }
    let [subject, body] = out;
    Ok((subject, body))
}

async fn filled(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    contact: &ContactRecord,
    compiled: Compiled,
    fields: field_definition::FieldSet,
) -> AppResult<String> {
    let rendered = Filler::new(state, actor, ws, compiled, fields)
        .await?
        .fill(state, contact)?;
    Ok(rendered.body_text)
}

/// The problems of one part, named for that part (they were checked as a text's body).
fn named(e: AppError, part: &str) -> Vec<(String, String)> {
    match e {
        AppError::InvalidMany(all) => all.into_iter().map(|(_, m)| (part.to_string(), m)).collect(),
        AppError::Invalid { message, .. } => vec![(part.to_string(), message)],
        other => vec![(part.to_string(), other.public_message())],
    }
}
