//! The dashboard's "Today" (issue 13): follow-ups due today or overdue — the values of date
//! fields marked as follow-up fields — the pipeline per stage with its count and the sum of a
//! money field, and the latest activity, across the person's workspaces (each item names its
//! workspace), and birthdays and other yearly dates of the next two weeks, computed as the
//! page is drawn (a birthday added this morning is there now, not after tomorrow's job).

use jiff::civil::Date;

use super::actor::{Actor, Scope};
use super::comms::Kind;
use super::field::FieldType;
use super::field_definition;
use super::workspace::WorkspaceAccess;
use crate::error::AppResult;
use crate::state::AppState;
use crate::storage;

pub struct FollowUp {
    pub workspace: WorkspaceAccess,
    pub contact_id: String,
    pub name: String,
    /// The field's label, or "Call" / "Note".
    pub label: String,
    /// What the note or call said (its follow-up can be marked done from the dashboard).
    pub note: Option<WrittenFollowUp>,
    /// As people read it ("November 26, 2026").
    pub due: String,
    /// 0 today, else how many days late.
    pub days_late: i64,
}

pub struct WrittenFollowUp {
    pub entry_id: String,
    pub excerpt: String,
}

pub struct Stage {
    pub id: String,
    pub name: String,
    pub contacts: i64,
    pub value: Option<f64>,
}

pub struct Pipeline {
    pub workspace: WorkspaceAccess,
    /// The number field summed (its label), when the workspace has one.
    pub value_label: Option<String>,
    /// That field's name, for each contact's own amount (the pipeline's cards show it).
    pub value_field: Option<String>,
    pub stages: Vec<Stage>,
}

impl Pipeline {
    pub fn total_contacts(&self) -> i64 {
        self.stages.iter().map(|s| s.contacts).sum()
    }

    /// A stage's bar, in percent of the fullest stage (a stage with anyone shows at least a sliver).
    pub fn bar(&self, stage: &Stage) -> i64 {
        let most = self.stages.iter().map(|s| s.contacts).max().unwrap_or(0);
        match (stage.contacts, most) {
            (0, _) | (_, 0) => 0,
            (n, m) => (n * 100 / m).max(2),
        }
    }

    pub fn total_value(&self) -> String {
        money(self.stages.iter().filter_map(|s| s.value).sum())
    }
}

impl Stage {
    pub fn value_text(&self) -> String {
        self.value.map(money).unwrap_or_else(|| "—".into())
    }
}

/// A sum of amounts as people read it: `1,250,000`.
fn money(v: f64) -> String {
    super::field::group_digits(&format!("{:.0}", v))
}

pub struct Activity {
    pub workspace: WorkspaceAccess,
    pub contact_id: String,
    pub name: String,
    pub kind: String,
    pub summary: String,
    pub timestamp: String,
}

/// A birthday, anniversary or other yearly date coming round in the next `UPCOMING_DAYS`.
pub struct YearlyDate {
    pub workspace: WorkspaceAccess,
    pub contact_id: String,
    pub name: String,
    /// The field's label ("Birthday").
    pub label: String,
    pub kind: YearlyKind,
    /// "December 9".
    pub on: String,
    /// 0 today, 1 tomorrow…
    pub in_days: i64,
    /// How many years it will be, when the date has a year.
    pub years: Option<i16>,
    sort: Date,
}

/// What a yearly date is, by its field's name or label: each has its own icon on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearlyKind {
    Birthday,
    Anniversary,
    Closing,
    Other,
}

impl YearlyKind {
    fn of(name: &str, label: &str) -> YearlyKind {
        let words = format!("{name} {label}").to_lowercase();
        if words.contains("birth") || words.contains("bday") || words.contains("geburtstag") {
            YearlyKind::Birthday
        } else if words.contains("closing") || words.contains("home") || words.contains("house") {
            YearlyKind::Closing
        } else if words.contains("anniversar") || words.contains("wedding") {
            YearlyKind::Anniversary
        } else {
            YearlyKind::Other
        }
    }

    pub fn icon(self) -> &'static str {
        match self {
            YearlyKind::Birthday => "🎂",
            YearlyKind::Anniversary => "💍",
            YearlyKind::Closing => "🏠",
            YearlyKind::Other => "📅",
        }
    }
}

impl YearlyDate {
    /// "today", "tomorrow", "in 5 days".
    pub fn when(&self) -> String {
        match self.in_days {
            0 => "today".into(),
            1 => "tomorrow".into(),
            n => format!("in {n} days"),
        }
    }
}

#[derive(Default)]
pub struct Today {
    pub follow_ups: Vec<FollowUp>,
    /// Yearly dates of the next two weeks, soonest first.
    pub yearly: Vec<YearlyDate>,
    pub pipelines: Vec<Pipeline>,
    pub activity: Vec<Activity>,
}

const FOLLOW_UPS: i64 = 30;
const YEARLY: usize = 30;
const ACTIVITY: i64 = 8;

pub async fn today(state: &AppState, actor: &Actor, workspaces: &[WorkspaceAccess]) -> AppResult<Today> {
    let mut out = Today::default();
    if !actor.has_scope(Scope::ReadContacts) {
        return Ok(out);
    }
    for ws in workspaces {
        let fields = field_definition::applicable(&state.db, ws).await?;
        let today = state.clock.now().to_zoned(ws.time_zone(&state.config)?).date();
        for def in fields.0.iter().filter(|d| d.is_follow_up) {
            let until = match def.field_type {
                FieldType::Datetime => format!("{today}T23:59:59Z"),
                _ => today.to_string(),
            };
            for (contact_id, name, value) in
                storage::today::due(&state.db, ws, &def.field_name, &until, FOLLOW_UPS).await?
            {
                let day: Option<Date> = value.get(..10).and_then(|d| d.parse().ok());
                out.follow_ups.push(FollowUp {
                    workspace: ws.clone(),
                    contact_id,
                    name: named(&name),
                    label: def.label.clone(),
                    note: None,
                    due: super::field::readable(def.field_type, &value),
                    days_late: day.map_or(0, |d| (today - d).get_days().into()),
                });
            }
        }
        for (entry_id, contact_id, name, kind, body, day) in
            storage::today::notes_due(&state.db, ws, &today.to_string(), FOLLOW_UPS).await?
        {
            let Ok(due) = day.parse::<Date>() else { continue };
            out.follow_ups.push(FollowUp {
                workspace: ws.clone(),
                contact_id,
                name: named(&name),
                label: Kind::parse(&kind).map_or("Note", |k| k.label()).to_string(),
                note: Some(WrittenFollowUp {
                    entry_id,
                    excerpt: excerpt(&body, 90),
                }),
                due: super::field::readable(FieldType::Date, &day),
                days_late: (today - due).get_days().into(),
            });
        }
        out.yearly.extend(yearly(state, ws, &fields, today).await?);
        if let Some(pipeline) = pipeline(state, ws, &fields).await? {
            out.pipelines.push(pipeline);
        }
        for (contact_id, name, kind, content, timestamp) in storage::today::recent(&state.db, ws, ACTIVITY).await? {
            let content = serde_json::from_str(&content).unwrap_or_default();
            out.activity.push(Activity {
                workspace: ws.clone(),
                contact_id,
                name: named(&name),
                kind: Kind::parse(&kind).map_or("entry", |k| k.label()).to_string(),
                summary: super::comms::summary_of(&kind, &content),
                timestamp,
            });
        }
    }
    out.follow_ups.sort_by_key(|f| std::cmp::Reverse(f.days_late));
    out.yearly
        .sort_by(|a, b| a.sort.cmp(&b.sort).then_with(|| a.name.cmp(&b.name)));
    out.yearly.truncate(YEARLY);
    out.activity.sort_by(|a, b| b.timestamp.cmp(&a.timestamp));
    out.activity.truncate(ACTIVITY as usize);
    Ok(out)
}

/// The yearly dates of one workspace's date fields that come round from `today` to
/// `UPCOMING_DAYS` ahead, by the month-day index (two ranges when the span crosses New Year).
async fn yearly(
    state: &AppState,
    ws: &WorkspaceAccess,
    fields: &field_definition::FieldSet,
    today: Date,
) -> AppResult<Vec<YearlyDate>> {
    // A follow-up date is a day something is due, not one that comes round every year.
    let dates: Vec<&field_definition::FieldDefinition> = fields
        .0
        .iter()
        .filter(|d| d.field_type == FieldType::Date && !d.is_follow_up)
        .collect();
    let names: Vec<String> = dates.iter().map(|d| d.field_name.clone()).collect();
    let last = today + jiff::Span::new().days(super::insights::UPCOMING_DAYS);
    // 29 February comes round on the 28th in other years (`next_occurrence`).
    let md = |d: Date| match (d.month(), d.day()) {
        (2, 28) => "02-29".to_string(),
        (m, day) => format!("{m:02}-{day:02}"),
    };
    let spans = if last.year() == today.year() {
        vec![(md(today), md(last))]
    } else {
        vec![(md(today), "12-31".to_string()), ("01-01".to_string(), md(last))]
    };
    let mut out = Vec::new();
    for (from, to) in spans {
        for (contact_id, name, field, value) in
            storage::today::yearly_between(&state.db, ws, &names, &from, &to, YEARLY as i64).await?
        {
            let Some((on, years)) = super::insights::next_occurrence(&value, today) else {
                continue;
            };
            let in_days: i64 = (on - today).get_days().into();
            if !(0..=i64::from(super::insights::UPCOMING_DAYS)).contains(&in_days) {
                continue;
            }
            let def = dates.iter().find(|d| d.field_name == field);
            let label = def.map_or(field.clone(), |d| d.label.clone());
            out.push(YearlyDate {
                workspace: ws.clone(),
                contact_id,
                name: named(&name),
                kind: YearlyKind::of(&field, &label),
                label,
                on: on.strftime("%B %-d").to_string(),
                in_days,
                years: years.filter(|n| *n > 0),
                sort: on,
            });
        }
    }
    Ok(out)
}

/// The start of a note, on one line, cut at a word.
fn excerpt(text: &str, at_most: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= at_most {
        return line;
    }
    let cut: String = line.chars().take(at_most).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

/// The workspace's pipeline: each stage's count and the sum of its money field (the number
/// field whose name says amount, value or loan, else the first number field); `None` without
/// stages.
pub async fn pipeline(
    state: &AppState,
    ws: &WorkspaceAccess,
    fields: &field_definition::FieldSet,
) -> AppResult<Option<Pipeline>> {
    let money = fields
        .0
        .iter()
        .filter(|d| d.field_type == FieldType::Number)
        .max_by_key(|d| {
            let n = d.field_name.as_str();
            (n.contains("amount") || n.contains("value") || n.contains("loan")) as u8
        });
    let field = money.map(|d| d.field_name.clone());
    let key = format!("stages {} {}", ws.id(), field.as_deref().unwrap_or(""));
    let stages = state
        .stats
        .get_or(&state.db, key, || async {
            Ok(storage::today::stages(&state.db, ws, field.as_deref()).await?)
        })
        .await?;
    if stages.is_empty() {
        return Ok(None);
    }
    Ok(Some(Pipeline {
        workspace: ws.clone(),
        value_label: money.map(|d| d.label.clone()),
        value_field: field.clone(),
        stages: stages
            .into_iter()
            .map(|(id, name, contacts, value)| Stage {
                id,
                name,
                contacts,
                value,
            })
            .collect(),
    }))
}

/// Whole days each of `contacts` has been in its current stage, by contact id.
pub async fn days_in_stage(
    state: &AppState,
    ws: &WorkspaceAccess,
    contacts: &[String],
) -> AppResult<std::collections::HashMap<String, i64>> {
    let now = state.clock.now();
    Ok(storage::today::in_stage_since(&state.db, ws, contacts)
        .await?
        .into_iter()
        .filter_map(|(id, since)| {
            let since = crate::clock::parse(&since)?;
            Some((id, (now.duration_since(since).as_hours() / 24).max(0)))
        })
        .collect())
}

fn named(name: &str) -> String {
    if name.trim().is_empty() {
        "(no name)".into()
    } else {
        name.trim().to_string()
    }
}
