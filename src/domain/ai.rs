//! The AI service (SPEC §9.2): drafts templates from the guided wizard, writes a personal
//! message for one contact, and counts each workspace's tokens against its daily cap. Without
//! a provider every action is a 409 `ai_not_configured`; past the cap a 429 `budget_exceeded`;
//! a timeout, a refusal or an answer that cannot be read is a 502 with the reason. Prompts
//! carry only what the task needs: the wizard's answers, or the one contact's own facts.

use serde_json::{Map, Value, json};

use super::actor::{Actor, Scope};
use super::ai_reply::{paragraphs_as_html, read_labelled, read_object};
use super::audit;
use super::comms::Kind;
use super::field::FieldType;
use super::field_definition::{self, FieldSet};
use super::ids::ContactId;
use super::messaging::Channel;
use super::template::{self, Template, TemplateInput};
use super::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::providers::llm::{self, AiProvider, Failure, Message};
use crate::state::AppState;
use crate::storage;

/// Answers are short: a message, not an essay.
const MAX_ANSWER_TOKENS: u32 = 1500;

/// The wizard's answers (`POST …/ai/templates`).
#[derive(Debug, Default, Clone)]
pub struct WizardInput {
    /// What the message should achieve ("tell past clients rates fell").
    pub goal: Option<String>,
    /// Who receives it ("past clients", "first-time buyers").
    pub audience: Option<String>,
    /// "warm", "professional", "playful" …
    pub tone: Option<String>,
    /// `short`, `medium` or `long`.
    pub length: Option<String>,
    /// What the reader should do ("book a 15-minute call").
    pub call_to_action: Option<String>,
    /// `email` or `text`.
    pub channel: Option<String>,
}

/// `POST …/ai/messages`.
#[derive(Debug, Default, Clone)]
pub struct PersonalInput {
    pub contact_id: Option<ContactId>,
    pub goal: Option<String>,
    /// `email` or `text`.
    pub channel: Option<String>,
}

/// A personal message drafted for one contact: edit it, then send it.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Email only.
    pub subject: Option<String>,
    pub body: String,
}

/// Today's spending against the cap (the settings page).
#[derive(Debug, Clone)]
pub struct Usage {
    pub day: String,
    pub tokens: u64,
    pub limit: u64,
}

/// A wizard's answers, checked, and the prompt they make.
pub struct WizardPrompt {
    pub channel: Channel,
    pub messages: Vec<Message>,
}

impl WizardPrompt {
    /// The prompt as the person is shown it before it is sent.
    pub fn as_text(&self) -> String {
        self.messages
            .iter()
            .map(|m| format!("[{}]\n{}", m.role, m.content))
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

fn field_text(value: &Option<String>, field: &str, max: usize, required: bool) -> AppResult<Option<String>> {
    let text = value.as_deref().map(str::trim).filter(|t| !t.is_empty());
    match text {
        None if required => Err(AppError::invalid(field, format!("say what the {field} is"))),
        Some(t) if t.chars().count() > max => {
            Err(AppError::invalid(field, format!("{field} is at most {max} characters")))
        }
        Some(t) if t.contains(['\r', '\n']) && max <= 200 => {
            Err(AppError::invalid(field, format!("{field} is one line")))
        }
        other => Ok(other.map(str::to_string)),
    }
}

/// Checks the wizard's answers and writes the prompt (nothing is sent).
pub async fn wizard_prompt(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    input: &WizardInput,
) -> AppResult<WizardPrompt> {
    require(actor, ws)?;
    let mut bad = crate::error::Invalids::default();
    let goal = bad.check(field_text(&input.goal, "goal", 500, true))?.flatten();
    let audience = bad
        .check(field_text(&input.audience, "audience", 200, false))?
        .flatten();
    let tone = bad.check(field_text(&input.tone, "tone", 100, false))?.flatten();
    let cta = bad
        .check(field_text(&input.call_to_action, "call_to_action", 200, false))?
        .flatten();
    let length = input
        .length
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .unwrap_or("short");
    if !["short", "medium", "long"].contains(&length) {
        bad.check::<()>(Err(AppError::invalid("length", "length is short, medium or long")))?;
    }
    let channel = input
        .channel
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or("email");
    let channel = match Channel::parse(channel) {
        Some(c) => Some(c),
        None => bad.check::<Channel>(Err(AppError::invalid("channel", "channel is email or text")))?,
    };
    bad.finish()?;
    let channel = channel.unwrap_or(Channel::Email);
    let fields = field_definition::applicable(&state.db, ws).await?;
    let sender = template::sender_for(state, actor).await?;
    let words = match (channel, length) {
        (Channel::Text, _) => "at most 300 characters",
        (_, "short") => "about 80 words",
        (_, "medium") => "about 150 words",
        _ => "about 250 words",
    };
    let shape = match channel {
        Channel::Email => {
            "Answer with one JSON object and nothing else: {\"name\": a short name for the template, \"subject\": the subject line, \"preheader\": one line shown after the subject, \"body\": the email as simple HTML using only <p>, <br>, <strong>, <em>, <ul>, <li> and <a href>}."
        }
        Channel::Text => {
            "Answer with one JSON object and nothing else: {\"name\": a short name for the template, \"body\": the text message, plain text without HTML or emoji overload}."
        }
    };
    let system = format!(
        "You write messages that {} sends to people in their contact list (\"{}\"). Write plain, friendly, honest English without hype. Never invent facts, rates, prices, dates or numbers, and never promise an approval or an outcome. {shape}\n\nPersonalise with these placeholders, written exactly like this, only where they fit: {}",
        sender.name,
        ws.name(),
        placeholder_guide(&fields)
    );
    let mut ask = format!(
        "Write a reusable {} template.\nGoal: {}\nLength: {words}.",
        if channel == Channel::Email {
            "email"
        } else {
            "text message"
        },
        goal.unwrap_or_default()
    );
    if let Some(a) = audience {
        ask.push_str(&format!("\nAudience: {a}"));
    }
    ask.push_str(&format!(
        "\nTone: {}",
        tone.as_deref().unwrap_or("warm and professional")
    ));
    if let Some(c) = cta {
        ask.push_str(&format!("\nCall to action: {c}"));
    }
    Ok(WizardPrompt {
        channel,
        messages: vec![Message::system(system), Message::user(ask)],
    })
}

/// The placeholders the model may use, with the workspace's custom fields.
fn placeholder_guide(fields: &FieldSet) -> String {
    let mut guide = vec![
        "{{ first_name | default(\"there\") }}".to_string(),
        "{{ full_name }}".into(),
        "{{ company }}".into(),
        "{{ sender.name }}".into(),
        "{{ sender.email }}".into(),
        "{{ workspace.name }}".into(),
    ];
    for def in &fields.0 {
        guide.push(format!("{{{{ custom.{} }}}} ({})", def.field_name, def.label));
    }
    guide.join(", ")
}

/// `POST …/ai/templates`: the wizard's draft, saved as an AI-generated template.
pub async fn draft_template(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    input: &WizardInput,
) -> AppResult<Template> {
    // `wizard_prompt` checks the scope and the role.
    let prompt = wizard_prompt(state, actor, ws, input).await?;
    let provider = provider(state, ws).await?;
    let reply = ask(state, ws, &provider, &prompt.messages).await?;
    let answer = match read_object(&reply) {
        Some(answer) => answer,
        None => plain_draft(&reply, prompt.channel)?,
    };
    let text = |k: &str| {
        answer
            .get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("")
            .to_string()
    };
    let name = match text("name") {
        n if n.is_empty() => input.goal.clone().unwrap_or_default().chars().take(60).collect(),
        n => n.chars().take(200).collect(),
    };
    let draft = TemplateInput {
        name: Some(name),
        channel: Some(prompt.channel.as_str().into()),
        subject: Some(text("subject")),
        preheader: Some(text("preheader")),
        body: Some(text("body")),
    };
    match template::create(state, actor, ws, draft, true).await {
        Err(AppError::Invalid { message, .. }) => Err(bad_answer(&reply, &message)),
        Err(AppError::InvalidMany(all)) => {
            let why = all
                .into_iter()
                .map(|(f, m)| format!("{f}: {m}"))
                .collect::<Vec<_>>()
                .join("; ");
            Err(bad_answer(&reply, &why))
        }
        other => other,
    }
}

/// A draft answered as plain words rather than the JSON asked for (small local models do):
/// an email from its `Subject:` line and the paragraphs after it, a text from its words.
fn plain_draft(reply: &str, channel: Channel) -> AppResult<Map<String, Value>> {
    let mut answer = match channel {
        Channel::Email => read_labelled(reply).ok_or_else(|| {
            bad_answer(
                reply,
                "it is neither the JSON object asked for nor a \"Subject:\" line followed by the email",
            )
        })?,
        Channel::Text => Map::from_iter([("body".to_string(), Value::String(reply.trim().to_string()))]),
    };
    if channel == Channel::Email {
        let body = paragraphs_as_html(answer["body"].as_str().unwrap_or_default());
        answer.insert("body".into(), Value::String(body));
    }
    Ok(answer)
}

/// `POST …/ai/messages`: a draft for one contact, logged as `ai` on their timeline.
pub async fn personal_message(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    input: &PersonalInput,
) -> AppResult<Draft> {
    require(actor, ws)?;
    let mut bad = crate::error::Invalids::default();
    let goal = bad.check(field_text(&input.goal, "goal", 500, true))?.flatten();
    let channel = match input.channel.as_deref().map(str::trim).and_then(Channel::parse) {
        Some(c) => Some(c),
        None => bad.check::<Channel>(Err(AppError::invalid("channel", "channel is email or text")))?,
    };
    let contact_id = match &input.contact_id {
        Some(id) => Some(id.clone()),
        None => bad.check::<ContactId>(Err(AppError::invalid("contact_id", "choose the contact")))?,
    };
    bad.finish()?;
    let (goal, channel, contact_id) = (
        goal.unwrap_or_default(),
        channel.unwrap_or(Channel::Email),
        contact_id.ok_or(AppError::NotFound)?,
    );
    let contact = storage::contacts::load(&state.db, ws, &contact_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let provider = provider(state, ws).await?;
    let fields = field_definition::applicable(&state.db, ws).await?;
    let sender = template::sender_for(state, actor).await?;
    let shape = match channel {
        Channel::Email => {
            "Answer with one JSON object and nothing else: {\"subject\": the subject line, \"body\": the email as plain text, paragraphs separated by blank lines, signed with the sender's first name}."
        }
        Channel::Text => {
            "Answer with one JSON object and nothing else: {\"body\": the text message, at most 300 characters, plain text}."
        }
    };
    let system = format!(
        "You write one personal {} from {} to one person they know. Write plain, friendly, honest English. Use only the facts given; never invent rates, prices, dates or promises. {shape}",
        if channel == Channel::Email {
            "email"
        } else {
            "text message"
        },
        sender.name
    );
    let user = format!("Goal: {goal}\nAbout the person:\n{}", facts(&contact, &fields));
    let messages = vec![Message::system(system), Message::user(user)];
    let reply = ask(state, ws, &provider, &messages).await?;
    let answer = read_object(&reply).or_else(|| match channel {
        Channel::Email => read_labelled(&reply),
        Channel::Text => None,
    });
    let (subject, body) = match (&answer, channel) {
        (Some(a), _) => (
            a.get("subject")
                .and_then(Value::as_str)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            a.get("body")
                .and_then(Value::as_str)
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
        ),
        // A text asked as JSON but answered as plain words is still the text.
        (None, Channel::Text) => (None, reply.trim().to_string()),
        (None, Channel::Email) => {
            return Err(bad_answer(
                &reply,
                "it is neither the JSON object asked for nor a \"Subject:\" line followed by the email",
            ));
        }
    };
    if body.is_empty() {
        return Err(bad_answer(&reply, "it has no body"));
    }
    let subject = if channel == Channel::Email {
        Some(subject.unwrap_or_else(|| goal.chars().take(80).collect()))
    } else {
        None
    };
    let mut tx = storage::db::begin_write(&state.db).await?;
    let content = json!({"goal": goal, "channel": channel.as_str(), "subject": subject, "body": body,
                         "model": provider.settings().model});
    let id = super::comms::record(&mut tx, actor, ws, &contact_id, Kind::Ai, content, None).await?;
    audit::in_workspace(&mut tx, actor, ws.id(), "ai.message", "communication", id.as_str()).await?;
    tx.commit().await?;
    Ok(Draft { subject, body })
}

/// What the model is told about the one contact: name, company, stage, and the values of
/// their date and text fields (the occasions a personal note is about) — nothing of anyone else.
fn facts(contact: &super::contact::ContactRecord, fields: &FieldSet) -> String {
    let mut lines = Vec::new();
    let b = &contact.base;
    if let Some(f) = b.first_name.as_deref().filter(|s| !s.is_empty()) {
        lines.push(format!("First name: {f}"));
    }
    if let Some(l) = b.last_name.as_deref().filter(|s| !s.is_empty()) {
        lines.push(format!("Last name: {l}"));
    }
    if let Some(c) = b.company.as_deref().filter(|s| !s.is_empty()) {
        lines.push(format!("Company: {c}"));
    }
    if let Some(stage) = contact.stage() {
        lines.push(format!("Pipeline stage: {}", stage.name));
    }
    for def in &fields.0 {
        if !matches!(
            def.field_type,
            FieldType::Date | FieldType::Text | FieldType::Select | FieldType::Boolean
        ) {
            continue;
        }
        if let Some(v) = contact.custom.get(&def.field_name).filter(|v| !v.is_empty()) {
            lines.push(format!("{}: {}", def.label, super::field::readable(def.field_type, v)));
        }
    }
    if lines.is_empty() {
        "(nothing is known beyond their address)".into()
    } else {
        lines.join("\n")
    }
}

fn require(actor: &Actor, ws: &WorkspaceAccess) -> AppResult<()> {
    actor.require(Scope::ExecuteAiWorkflow)?;
    ws.require_editor()
}

async fn provider(state: &AppState, ws: &WorkspaceAccess) -> AppResult<AiProvider> {
    super::messaging::providers::ai(state, ws).await?.ok_or_else(|| {
        AppError::refused(
            "ai_not_configured",
            "this workspace has no AI provider yet; its owner sets one under Messaging → AI",
        )
    })
}

/// The workspace's day, in its own time zone (the cap resets at its midnight).
fn today(state: &AppState, ws: &WorkspaceAccess) -> AppResult<String> {
    let tz = ws.time_zone(&state.config)?;
    Ok(state.clock.now().to_zoned(tz).date().to_string())
}

pub async fn usage(state: &AppState, actor: &Actor, ws: &WorkspaceAccess) -> AppResult<Option<Usage>> {
    actor.require(Scope::ManageWorkspaces)?;
    let Some(p) = super::messaging::providers::ai(state, ws).await? else {
        return Ok(None);
    };
    let day = today(state, ws)?;
    let tokens = storage::ai_usage::spent(&state.db, ws, &day).await?;
    Ok(Some(Usage {
        day,
        tokens,
        limit: p.settings().daily_limit(),
    }))
}

/// One call to the model, within the day's budget; its tokens are counted whatever it said.
/// Before the call its estimate (the prompt at three characters a token, plus the answer's
/// `max_tokens`) is reserved in one transaction, so calls made at once cannot each see the
/// budget unspent; after it, the reservation becomes what the server said it used.
async fn ask(state: &AppState, ws: &WorkspaceAccess, provider: &AiProvider, messages: &[Message]) -> AppResult<String> {
    let settings = provider.settings();
    let day = today(state, ws)?;
    let prompt_chars: usize = messages.iter().map(|m| m.content.chars().count()).sum();
    let estimate = (prompt_chars as u64).div_ceil(3) + u64::from(MAX_ANSWER_TOKENS);
    if !storage::ai_usage::reserve(&state.db, ws, &day, estimate, settings.daily_limit()).await? {
        return Err(AppError::OverLimit {
            code: "budget_exceeded",
            message: format!(
                "this workspace has used its {} AI tokens for today ({day}); AI is back tomorrow, or its owner can raise the daily limit",
                settings.daily_limit()
            ),
        });
    }
    let answer = llm::chat(settings, messages, MAX_ANSWER_TOKENS).await;
    let used = answer.as_ref().map(|r| r.total_tokens).unwrap_or(0);
    storage::ai_usage::settle(&state.db, ws, &day, estimate, used).await?;
    match answer {
        Ok(reply) => Ok(reply.content),
        Err(Failure::Timeout(message)) => Err(AppError::Upstream {
            code: "ai_timeout",
            message,
        }),
        Err(Failure::Failed(message)) => Err(AppError::Upstream {
            code: "ai_failed",
            message,
        }),
    }
}

/// pi-crm's own question to the workspace's model (the insights job's ideas): `None` without
/// an AI provider; spends from the same daily budget as people do.
pub async fn ask_for_system(state: &AppState, ws: &WorkspaceAccess, prompt: &str) -> AppResult<Option<String>> {
    let Some(provider) = super::messaging::providers::ai(state, ws).await? else {
        return Ok(None);
    };
    ask(state, ws, &provider, &[Message::user(prompt)]).await.map(Some)
}

fn bad_answer(reply: &str, why: &str) -> AppError {
    AppError::Upstream {
        code: "ai_bad_answer",
        message: format!(
            "the model's answer could not be used ({why}); try again or reword the goal. It said: {}",
            crate::providers::short(reply)
        ),
    }
}

/// `POST …/ai/workflows` (SPEC §9.2): `request_approval` submits a campaign for review (as
/// `submit` does); `draft_campaign` asks the model to name a campaign for a template and a goal
/// and to choose, from the workspace's list names only, who it is for — a draft to check.
#[derive(Debug, Clone)]
pub struct WorkflowInput {
    /// `request_approval` or `draft_campaign`.
    pub action: String,
    pub campaign_id: Option<String>,
    pub template_id: Option<String>,
    pub goal: Option<String>,
}

/// What a workflow did: the campaign, and whether it was made now (201) or moved on (200).
pub struct WorkflowDone {
    pub campaign: super::campaign::Campaign,
    pub created: bool,
}

pub async fn workflow(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    input: &WorkflowInput,
) -> AppResult<WorkflowDone> {
    require(actor, ws)?;
    match input.action.trim() {
        "request_approval" => {
            let id = input
                .campaign_id
                .as_deref()
                .map(str::trim)
                .and_then(super::ids::CampaignId::parse)
                .ok_or_else(|| AppError::invalid("campaign_id", "name the campaign to submit"))?;
            let campaign = super::campaign::approval::submit(state, actor, ws, &id).await?;
            Ok(WorkflowDone {
                campaign,
                created: false,
            })
        }
        "draft_campaign" => draft_campaign(state, actor, ws, input).await,
        _ => Err(AppError::invalid(
            "action",
            "action is request_approval or draft_campaign",
        )),
    }
}

async fn draft_campaign(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    input: &WorkflowInput,
) -> AppResult<WorkflowDone> {
    actor.require(Scope::WriteCampaigns)?;
    let mut bad = crate::error::Invalids::default();
    let goal = bad.check(field_text(&input.goal, "goal", 500, true))?.flatten();
    let template_id = input.template_id.as_deref().map(str::trim).unwrap_or("");
    let template =
        match super::ids::TemplateId::parse(template_id) {
            Some(id) => bad.check(template::get(state, actor, ws, &id).await.map_err(|_| {
                AppError::invalid("template_id", "there is no template with this id in this workspace")
            }))?,
            None => bad.check::<Template>(Err(AppError::invalid("template_id", "choose the template to send")))?,
        };
    bad.finish()?;
    let (goal, template) = (goal.unwrap_or_default(), template.ok_or(AppError::NotFound)?);
    let provider = provider(state, ws).await?;
    let lists = storage::lists::all(&state.db, ws).await?;
    let names: Vec<&str> = lists.iter().map(|l| l.name.as_str()).collect();
    let system = "You plan one marketing campaign for a small business's CRM. Answer with one JSON object and nothing else: {\"name\": a short campaign name of at most 60 characters, \"lists_any\": the names, copied exactly from the lists given, of the lists whose contacts should receive it (empty for everyone)}.";
    let user = format!(
        "Goal: {goal}\nTemplate: {} ({}; subject: {})\nLists: {}",
        template.name,
        template.channel,
        if template.subject.is_empty() {
            "none"
        } else {
            &template.subject
        },
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    );
    let reply = ask(state, ws, &provider, &[Message::system(system), Message::user(user)]).await?;
    let answer = read_object(&reply).ok_or_else(|| bad_answer(&reply, "it is not the JSON object asked for"))?;
    let name: String = answer
        .get("name")
        .and_then(Value::as_str)
        .map(|s| s.trim().chars().take(200).collect())
        .filter(|s: &String| !s.is_empty())
        .ok_or_else(|| bad_answer(&reply, "it has no name"))?;
    // Only lists that exist here: a name the model made up is dropped, never created.
    let chosen: Vec<String> = answer
        .get("lists_any")
        .and_then(Value::as_array)
        .map(|all| {
            all.iter()
                .filter_map(Value::as_str)
                .filter_map(|n| lists.iter().find(|l| l.name.eq_ignore_ascii_case(n.trim())))
                .map(|l| l.id.clone())
                .collect()
        })
        .unwrap_or_default();
    let campaign = super::campaign::create(
        state,
        actor,
        ws,
        super::campaign::CampaignInput {
            name: Some(name),
            channel: Some(template.channel.to_string()),
            template_id: Some(template.id.clone()),
            segment: Some(super::campaign::segment::Segment {
                lists_any: chosen,
                ..Default::default()
            }),
            schedule: None,
        },
    )
    .await?;
    Ok(WorkflowDone {
        campaign,
        created: true,
    })
}
