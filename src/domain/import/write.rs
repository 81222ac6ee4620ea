//! Writing an import's rows, a chunk at a time, inside the import's one transaction.
//!
//! Most rows are new people: they go in with multi-row inserts that leave out any row whose
//! email or phone is already taken — by a contact of the workspace or by an earlier row of the
//! file, since the file's own rows are written as it goes. The rows left out, and those that
//! could not be created on their own, are looked at one by one: a duplicate (the same email;
//! or, without an email, the same phone) is skipped or combined by the chosen policy; a phone
//! that belongs to someone else is an error. Nothing in the file is held beyond the chunk, and
//! the database itself remembers what came before. When any row is bad the caller rolls the
//! whole transaction back, so every row is still checked against the rows before it.
//!
//! Search documents are written once at the end (`finish`), in one statement: FTS5 writes
//! its pending index to disk at every statement that could be rolled back on its own, and a
//! statement per chunk meant a segment per chunk and merging them over and over — half the
//! import's time.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;

use super::mapping::{OnDuplicate, OnProblem};
use super::plan::{Parsed, Planned, Problem, Report, RowError, combine};
use crate::domain::contact::BaseFields;
use crate::domain::field_definition::FieldDefinition;
use crate::domain::ids::ContactId;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::storage;
use crate::storage::contacts::NewContact;

/// A contact as it was before an import updated it (`import_items.before`), for revert.
#[derive(Serialize, Deserialize)]
pub struct Before {
    #[serde(flatten)]
    pub base: BaseFields,
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
}

pub struct Writer {
    import: String,
    ws: WorkspaceAccess,
    policy: OnDuplicate,
    on_problem: OnProblem,
    created_on: String,
    /// Field name → default value, for the contacts this import creates.
    defaults: Vec<(String, String)>,
    /// Field name → label, of the fields every new contact must have.
    required: Vec<(String, String)>,
    pub report: Report,
}

impl Writer {
    pub fn new(
        import: &str,
        ws: &WorkspaceAccess,
        policy: OnDuplicate,
        on_problem: OnProblem,
        fields: &[&FieldDefinition],
    ) -> Writer {
        Writer {
            import: import.to_string(),
            ws: ws.clone(),
            policy,
            on_problem,
            created_on: crate::clock::now_text(),
            defaults: fields
                .iter()
                .filter_map(|d| Some((d.field_name.clone(), d.default_value.clone()?)))
                .collect(),
            required: fields
                .iter()
                .filter(|d| d.is_required && d.default_value.is_none())
                .map(|d| (d.field_name.clone(), d.label.clone()))
                .collect(),
            report: Report::default(),
        }
    }

    /// Why a row cannot become a new contact, if it cannot.
    fn create_errors(&self, p: &Planned) -> Vec<RowError> {
        let error = |message: String| RowError {
            line: p.line,
            column: None,
            message,
        };
        let mut errors = Vec::new();
        if p.base.is_empty() {
            errors.push(error(
                "a contact needs at least a name, an email, a phone number or a company".into(),
            ));
        }
        for (name, label) in &self.required {
            if !p.custom.contains_key(name) {
                errors.push(error(format!("{label} is required")));
            }
        }
        errors
    }

    /// A row that cannot go in as it is: left out and reported as a problem, or (with
    /// `on_problem: stop`) an error that stops the file.
    fn refuse_row(&mut self, errors: Vec<RowError>) {
        match self.on_problem {
            OnProblem::Stop => self.report.errors.extend(errors),
            OnProblem::SkipCell => {
                self.report.skipped += 1;
                self.report.add_problems(errors.into_iter().map(|e| Problem {
                    line: e.line,
                    column: e.column,
                    value: String::new(),
                    message: format!("row left out: {}", e.message),
                }));
            }
        }
    }

    /// Writes a chunk of rows in file order. Rows go to a multi-row insert in batches; the
    /// database refuses those whose email or phone someone holds, and they are then written
    /// one by one, right after their batch. That keeps the file's order (later rows win an
    /// update) as long as a batch never holds the same email or phone twice: a duplicate
    /// combined into its contact could otherwise hand that contact a phone a later row of the
    /// same batch already took. So a repeated email or phone closes the batch before it.
    pub async fn write(&mut self, conn: &mut SqliteConnection, rows: Vec<Parsed>) -> AppResult<()> {
        let mut batch: Vec<Planned> = Vec::new();
        let mut in_batch: HashSet<String> = HashSet::new();
        for row in rows {
            match row {
                Parsed::Empty => self.report.skipped += 1,
                Parsed::Invalid(errors) => self.report.errors.extend(errors),
                Parsed::Unreadable(problems) => {
                    self.report.skipped += 1;
                    self.report.add_problems(problems);
                }
                Parsed::Contact(mut p) => {
                    self.report.add_problems(std::mem::take(&mut p.problems));
                    let keys = [&p.base.primary_email, &p.base.primary_phone];
                    if keys.iter().any(|k| k.as_ref().is_some_and(|k| in_batch.contains(k))) {
                        self.insert_batch(conn, std::mem::take(&mut batch)).await?;
                        in_batch.clear();
                    }
                    in_batch.extend(keys.into_iter().flatten().cloned());
                    batch.push(p);
                }
            }
        }
        self.insert_batch(conn, batch).await
    }

    /// Inserts a batch in multi-row statements; the rows refused (a duplicate, a phone held by
    /// someone else) or that cannot be created on their own are then written one by one.
    async fn insert_batch(&mut self, conn: &mut SqliteConnection, batch: Vec<Planned>) -> AppResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut new = Vec::with_capacity(batch.len());
        let mut one_by_one = Vec::new();
        for p in batch {
            if self.create_errors(&p).is_empty() {
                new.push((ContactId::generate().to_string(), p));
            } else {
                one_by_one.push(p);
            }
        }
        let written = storage::contacts::insert_new(
            conn,
            &self.ws,
            &self.created_on,
            &new.iter()
                .map(|(id, p)| NewContact { id, base: &p.base })
                .collect::<Vec<_>>(),
        )
        .await?;
        let mut created = Vec::with_capacity(written.len());
        for (id, mut p) in new {
            if written.contains(&id) {
                for (name, value) in &self.defaults {
                    p.custom.entry(name.clone()).or_insert_with(|| value.clone());
                }
                created.push((id, p));
            } else {
                one_by_one.push(p);
            }
        }
        self.record_created(conn, &created).await?;
        one_by_one.sort_by_key(|p| p.line);
        for p in one_by_one {
            self.write_one(conn, p).await?;
        }
        Ok(())
    }

    async fn record_created(&mut self, conn: &mut SqliteConnection, created: &[(String, Planned)]) -> AppResult<()> {
        let values: Vec<(&str, &BTreeMap<String, String>)> =
            created.iter().map(|(id, p)| (id.as_str(), &p.custom)).collect();
        storage::contacts::insert_values(conn, &self.ws, &values).await?;
        let items: Vec<(&str, u64)> = created.iter().map(|(id, p)| (id.as_str(), p.line)).collect();
        storage::imports::add_created(conn, &self.ws, &self.import, &items).await?;
        self.report.created += created.len() as u64;
        Ok(())
    }

    async fn holder(
        &self,
        conn: &mut SqliteConnection,
        column: &str,
        value: Option<&str>,
    ) -> AppResult<Option<String>> {
        Ok(match value {
            Some(v) => storage::contacts::id_by_unique(conn, &self.ws, column, v).await?,
            None => None,
        })
    }

    /// A row that is a duplicate, clashes with someone, or cannot be created on its own.
    async fn write_one(&mut self, conn: &mut SqliteConnection, p: Planned) -> AppResult<()> {
        let by_email = self
            .holder(conn, "primary_email", p.base.primary_email.as_deref())
            .await?;
        let by_phone = self
            .holder(conn, "primary_phone", p.base.primary_phone.as_deref())
            .await?;
        let same_person = match p.base.primary_email {
            Some(_) => by_email,
            None => by_phone.clone(),
        };
        let Some(target) = same_person else {
            if let (Some(holder), Some(phone)) = (by_phone, &p.base.primary_phone) {
                return self.phone_clash(conn, p.line, phone, &holder).await;
            }
            let errors = self.create_errors(&p);
            if errors.is_empty() {
                // Refused by the insert, yet nobody holds its email or phone.
                return Err(AppError::Internal(anyhow::anyhow!(
                    "line {} was neither written nor a duplicate",
                    p.line
                )));
            }
            self.refuse_row(errors);
            return Ok(());
        };
        self.report.duplicates += 1;
        if self.policy == OnDuplicate::Skip {
            self.report.skipped += 1;
            return Ok(());
        }
        let id = ContactId::parse(&target).ok_or(AppError::NotFound)?;
        let before = storage::contacts::load(&mut *conn, &self.ws, &id)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut after = Planned {
            line: p.line,
            base: before.base.clone(),
            custom: before.custom.clone(),
            problems: Vec::new(),
        };
        combine(&mut after, &p, &self.policy);
        if after.base == before.base && after.custom == before.custom {
            return Ok(());
        }
        if let (Some(phone), Some(holder)) = (&after.base.primary_phone, &by_phone)
            && after.base.primary_phone != before.base.primary_phone
            && *holder != target
        {
            return self.phone_clash(conn, p.line, phone, holder).await;
        }
        if storage::imports::item(conn, &self.ws, &self.import, &target)
            .await?
            .is_none()
        {
            let snapshot = Before {
                base: before.base.clone(),
                custom_fields: before.custom.clone(),
            };
            let snapshot = serde_json::to_string(&snapshot).expect("a contact serialises");
            storage::imports::add_updated(conn, &self.ws, &self.import, &target, &snapshot, p.line).await?;
            self.report.updated += 1;
        }
        let mut record = before.clone();
        record.base = after.base;
        storage::contacts::update_base(conn, &self.ws, &record).await?;
        for (name, value) in changed(&before.custom, &after.custom) {
            storage::contacts::set_value(conn, &self.ws, &id, name, value).await?;
        }
        Ok(())
    }

    async fn phone_clash(
        &mut self,
        conn: &mut SqliteConnection,
        line: u64,
        phone: &str,
        holder: &str,
    ) -> AppResult<()> {
        let message = match storage::imports::item(conn, &self.ws, &self.import, holder).await? {
            Some((_, Some(other_line))) => format!(
                "its phone number {phone} is also on line {other_line}, for someone else; a primary phone belongs to one contact, so map that column to a custom phone field"
            ),
            _ => format!("its phone number {phone} already belongs to another contact here"),
        };
        self.refuse_row(vec![RowError {
            line,
            column: None,
            message,
        }]);
        Ok(())
    }

    /// Writes the search documents of every contact the import created or changed; the
    /// report is then final.
    pub async fn finish(self, conn: &mut SqliteConnection) -> AppResult<Report> {
        storage::imports::refresh_search(conn, &self.ws, &self.import).await?;
        Ok(self.report)
    }
}

/// The values of `after` that `before` lacks or holds differently.
fn changed<'a>(
    before: &'a BTreeMap<String, String>,
    after: &'a BTreeMap<String, String>,
) -> impl Iterator<Item = (&'a String, &'a String)> {
    after.iter().filter(move |(k, v)| before.get(*k) != Some(*v))
}
