//! Writing an import's rows, a chunk at a time, each chunk in a transaction of its own. The
//! contacts written stay hidden until the import's last transaction (`finish`) shows them all
//! at once (migration 0025).
//!
//! Most rows are new people: they go in with multi-row inserts. A row is a duplicate (SPEC §4)
//! of a contact with the same email, or — without an email — of one with the same phone and
//! the same name, whether that contact was there before or came from an earlier row of the
//! file, since the file's own rows are written as it goes. The email's unique index leaves
//! out the first kind from the insert; the second is looked up for each batch before it, as
//! phones may be shared. Those rows, and rows that could not be created on their own, are
//! looked at one by one: a duplicate is skipped, or kept to be combined by the chosen policy
//! in the last transaction — the contact it changes is one people can see, and must not change
//! before the import shows. Nothing in the file is held beyond the chunk, and the database
//! itself remembers what came before.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;

use super::mapping::{OnDuplicate, OnProblem};
use super::plan::{Parsed, Planned, Problem, Report, RowError, combine, describe};
use crate::domain::contact::BaseFields;
use crate::domain::field_definition::FieldDefinition;
use crate::domain::ids::ContactId;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::storage;
use crate::storage::contacts::{NewContact, Seen};
use crate::storage::import_problems::ProblemRow;

/// A contact as it was before an import updated it (`import_items.before`), for revert.
#[derive(Serialize, Deserialize)]
pub struct Before {
    #[serde(flatten)]
    pub base: BaseFields,
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
    /// The ids of the lists the contact was on (`None` in snapshots older than this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lists: Option<Vec<String>>,
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
    /// Rows with a problem met in this chunk, as read, stored with the chunk.
    problem_rows: Vec<ProblemRow>,
    /// Duplicates kept for the last transaction so far (`import_deferred_rows.seq`).
    deferred: i64,
    /// Contacts created in this transaction whose search documents are still to write.
    unsearchable: Vec<String>,
    /// The new contacts' group names (`Labels`, `Categories`), put on lists in the last
    /// transaction, so a list appears only with the import's contacts.
    memberships: Vec<(String, Vec<String>)>,
    /// Time spent per step, for the log.
    pub steps: super::steps::Steps,
    /// The journal's triggers set aside for the open transaction (`begin`).
    journal: Option<storage::paused_triggers::Paused>,
    /// Custom values staged in the open transaction, still to write (`before_commit`).
    staged: u64,
    /// What writing a staged value took at the last `before_commit`.
    per_value: std::time::Duration,
}

/// A duplicate to update or merge when the import finishes, as kept meanwhile.
#[derive(Serialize, Deserialize)]
struct DeferredRow {
    line: u64,
    base: BaseFields,
    custom: BTreeMap<String, String>,
    cells: Vec<String>,
    #[serde(default)]
    lists: Vec<String>,
    /// Its unread values and the columns kept as a note: a note on the contact it updates.
    #[serde(default)]
    problems: Vec<Problem>,
    #[serde(default)]
    note: Vec<String>,
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
            problem_rows: Vec::new(),
            deferred: 0,
            unsearchable: Vec::new(),
            memberships: Vec::new(),
            steps: Default::default(),
            journal: None,
            staged: 0,
            // About what a value takes on a 2-core machine; measured from the first commit on.
            per_value: std::time::Duration::from_micros(8),
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
    fn refuse_row(&mut self, p: Planned, errors: Vec<RowError>) {
        match self.on_problem {
            OnProblem::Stop => self.report.errors.extend(errors),
            OnProblem::SkipCell => {
                self.report.skipped += 1;
                let problems: Vec<Problem> = errors
                    .into_iter()
                    .map(|e| Problem {
                        line: e.line,
                        column: e.column,
                        value: String::new(),
                        message: format!("row left out: {}", e.message),
                    })
                    .collect();
                self.keep_problem_row(p.line, p.cells, &problems);
                self.report.add_problems(problems);
            }
        }
    }

    /// Remembers a row with problems as the file had it, for the download.
    fn keep_problem_row(&mut self, line: u64, cells: Vec<String>, problems: &[Problem]) {
        self.problem_rows.push(ProblemRow {
            line,
            cells,
            problem: describe(problems),
        });
    }

    /// Writes a chunk of rows in file order. Rows go to a multi-row insert in batches; the
    /// duplicates among them are then written one by one, right after their batch. That keeps
    /// the file's order (later rows win an update) as long as a batch never holds the same
    /// person twice, so a row that repeats an earlier one's key closes the batch before it.
    pub async fn write(&mut self, conn: &mut SqliteConnection, rows: Vec<Parsed>) -> AppResult<()> {
        let mut batch: Vec<Planned> = Vec::new();
        let mut in_batch: HashSet<String> = HashSet::new();
        for row in rows {
            match row {
                Parsed::Empty => self.report.skipped += 1,
                Parsed::Invalid(errors) => self.report.errors.extend(errors),
                Parsed::Unreadable { cells, problems } => {
                    self.report.skipped += 1;
                    let line = problems.first().map_or(0, |p| p.line);
                    self.keep_problem_row(line, cells, &problems);
                    self.report.add_problems(problems);
                }
                Parsed::Contact(p) => {
                    if !p.problems.is_empty() {
                        self.keep_problem_row(p.line, p.cells.clone(), &p.problems);
                    }
                    // The problems stay on the row too: a new contact keeps their values as a
                    // note (`keep_as_note`).
                    self.report.add_problems(p.problems.iter().cloned());
                    if let Some(key) = person_key(&p)
                        && !in_batch.insert(key.clone())
                    {
                        self.insert_batch(conn, std::mem::take(&mut batch)).await?;
                        in_batch.clear();
                        in_batch.insert(key);
                    }
                    batch.push(p);
                }
            }
        }
        self.insert_batch(conn, batch).await?;
        self.store_problem_rows(conn).await
    }

    /// Stores the rows with a problem met since the last call, for the download.
    async fn store_problem_rows(&mut self, conn: &mut SqliteConnection) -> AppResult<()> {
        let rows = std::mem::take(&mut self.problem_rows);
        storage::import_problems::add(conn, &self.ws, &self.import, &rows).await?;
        Ok(())
    }

    /// Inserts a batch in multi-row statements; the duplicates (left out by the email's
    /// index, or found here by phone and name) and the rows that cannot be created on their
    /// own are then written one by one.
    async fn insert_batch(&mut self, conn: &mut SqliteConnection, batch: Vec<Planned>) -> AppResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let t = std::time::Instant::now();
        let by_phone = self.phone_namesakes(conn, &batch).await?;
        self.steps.add("phone look-up", t);
        let mut new = Vec::with_capacity(batch.len());
        let mut one_by_one = Vec::new();
        for p in batch {
            let namesake = phone_and_name(&p).is_some_and(|k| by_phone.contains(&k));
            if self.create_errors(&p).is_empty() && !namesake {
                new.push((ContactId::generate().to_string(), p));
            } else {
                one_by_one.push(p);
            }
        }
        let t = std::time::Instant::now();
        let written = storage::contacts::insert_new(
            conn,
            &self.ws,
            &self.import,
            &self.created_on,
            &new.iter()
                .map(|(id, p)| NewContact { id, base: &p.base })
                .collect::<Vec<_>>(),
        )
        .await?;
        self.steps.add("contacts insert", t);
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
        let t = std::time::Instant::now();
        for p in one_by_one {
            self.write_one(conn, p).await?;
        }
        self.steps.add("duplicates", t);
        Ok(())
    }

    /// The `(phone, name)` keys of the workspace's contacts that the batch's rows without an
    /// email would duplicate, in one look-up.
    async fn phone_namesakes(
        &self,
        conn: &mut SqliteConnection,
        batch: &[Planned],
    ) -> AppResult<HashSet<(String, String)>> {
        let phones: Vec<&str> = batch
            .iter()
            .filter(|p| p.base.primary_email.is_none())
            .filter_map(|p| p.base.primary_phone.as_deref())
            .collect();
        let holders = storage::contacts::holding_phones(conn, &self.ws, &phones, Seen::WithImports).await?;
        Ok(holders
            .into_iter()
            .filter_map(|(_, base)| Some((base.primary_phone.clone()?, base.name_key())))
            .collect())
    }

    async fn record_created(&mut self, conn: &mut SqliteConnection, created: &[(String, Planned)]) -> AppResult<()> {
        let values: Vec<(&str, &BTreeMap<String, String>)> =
            created.iter().map(|(id, p)| (id.as_str(), &p.custom)).collect();
        let t = std::time::Instant::now();
        storage::contacts::stage_values(conn, &values).await?;
        self.staged += values.iter().map(|(_, v)| v.len() as u64).sum::<u64>();
        self.steps.add("custom values staged", t);
        let t = std::time::Instant::now();
        let items: Vec<(&str, u64)> = created.iter().map(|(id, p)| (id.as_str(), p.line)).collect();
        storage::imports::add_created(conn, &self.ws, &self.import, &items).await?;
        self.steps.add("import items", t);
        for (id, p) in created
            .iter()
            .filter(|(_, p)| !p.problems.is_empty() || !p.note.is_empty())
        {
            self.keep_as_note(conn, id, p).await?;
        }
        self.memberships.extend(
            created
                .iter()
                .filter(|(_, p)| !p.lists.is_empty())
                .map(|(id, p)| (id.clone(), p.lists.clone())),
        );
        self.unsearchable.extend(created.iter().map(|(id, _)| id.clone()));
        self.report.created += created.len() as u64;
        Ok(())
    }

    /// Puts the new contacts on the lists their group names name, making each list the
    /// workspace lacks (the report names them). A name that is a pipeline stage's is left out:
    /// a stage is a contact's place in the pipeline, not a label.
    async fn put_on_lists(&mut self, conn: &mut SqliteConnection) -> AppResult<()> {
        let mut lists: BTreeMap<String, Option<storage::lists::ContactList>> = BTreeMap::new();
        for (contact, names) in std::mem::take(&mut self.memberships) {
            let Some(contact) = ContactId::parse(&contact) else {
                continue;
            };
            for name in names {
                if !lists.contains_key(&name) {
                    let list = match storage::lists::find_by_name(&mut *conn, &self.ws, &name).await? {
                        Some(found) => Some(found).filter(|l| !l.is_primary),
                        None => {
                            let made = storage::lists::ContactList {
                                id: crate::domain::ids::ListId::generate().to_string(),
                                name: name.clone(),
                                is_primary: false,
                                position: storage::lists::next_position(&mut *conn, &self.ws).await?,
                            };
                            storage::lists::insert(&mut *conn, &self.ws, &made).await?;
                            self.report.lists_created.push(name.clone());
                            Some(made)
                        }
                    };
                    lists.insert(name.clone(), list);
                }
                if let Some(Some(list)) = lists.get(&name) {
                    storage::lists::assign(&mut *conn, &self.ws, &contact, list).await?;
                }
            }
        }
        Ok(())
    }

    /// What a new contact's row had that is kept on no field, as a note on its timeline: the
    /// columns the mapping chose to keep as a note, and the values that could not be read as
    /// their fields' types (which are in the report too). Nothing in the file is lost. The note
    /// goes with the contact if the import is reverted.
    async fn keep_as_note(&self, conn: &mut SqliteConnection, contact: &str, p: &Planned) -> AppResult<()> {
        let unread: Vec<String> = p
            .problems
            .iter()
            .filter(|p| !p.value.is_empty())
            .map(|p| format!("{}: {}", p.column.as_deref().unwrap_or("?"), p.value))
            .collect();
        let mut parts = Vec::new();
        if !p.note.is_empty() {
            parts.push(format!("From the import:\n{}", p.note.join("\n")));
        }
        if !unread.is_empty() {
            parts.push(format!(
                "Kept from the import: these values could not be read as their fields' types.\n{}",
                unread.join("\n")
            ));
        }
        if parts.is_empty() {
            return Ok(());
        }
        let entry = storage::comms::Communication {
            id: crate::domain::ids::CommunicationId::generate().to_string(),
            contact_id: contact.to_string(),
            kind: "note".into(),
            content: serde_json::json!({
                "body": parts.join("\n\n"),
                "import_id": self.import,
            }),
            status: None,
            timestamp: self.created_on.clone(),
            pinned: false,
            author: None,
        };
        storage::comms::insert(conn, &self.ws, None, &entry).await?;
        Ok(())
    }

    /// Writes the custom values staged and the search documents of the contacts created since
    /// the last call, a statement each: to call just before each commit. One sorted statement
    /// per transaction changes each page of the values' index once
    /// (`storage::contacts::fold_staged_values`); FTS5 writes its buffer out as a new segment
    /// at the end of every statement that writes to it, so a statement per batch made a dozen
    /// segments per transaction, and merging them was most of the import's time.
    pub async fn before_commit(&mut self, conn: &mut SqliteConnection) -> AppResult<()> {
        if self.staged > 0 {
            let t = std::time::Instant::now();
            storage::contacts::fold_staged_values(conn, &self.ws).await?;
            self.per_value = t.elapsed() / u32::try_from(self.staged).unwrap_or(u32::MAX);
            self.staged = 0;
            self.steps.add("custom values insert", t);
        }
        let t = std::time::Instant::now();
        let ids: Vec<&str> = self.unsearchable.iter().map(String::as_str).collect();
        storage::contacts::add_search_documents(conn, &self.ws, &ids).await?;
        self.steps.add("search documents", t);
        self.unsearchable.clear();
        if let Some(journal) = self.journal.take() {
            journal.rebuild(conn).await?;
        }
        Ok(())
    }

    /// How long `before_commit` will take to write the values staged so far, as the last one
    /// went: most of a transaction's time, which the run counts before it decides to commit.
    pub fn still_to_write(&self) -> std::time::Duration {
        self.per_value * u32::try_from(self.staged).unwrap_or(u32::MAX)
    }

    /// To call as each transaction of rows begins: everything it writes until `before_commit`
    /// is a contact this import still hides, or theirs (duplicates of contacts people can see
    /// wait for the last transaction), so the journal's triggers, which skip them, are set
    /// aside meanwhile (`storage::imports::pause_journal`) — unless someone waits to write.
    /// Each pause changes the schema, and every other connection then prepares its statements
    /// again: with four people writing beside a million-row import in transactions of 100 ms,
    /// that made their writes p99 1.3 s and the import 420 s (`./scripts/bench busy`).
    pub async fn begin(&mut self, conn: &mut SqliteConnection) -> AppResult<()> {
        if !storage::db::writers_waiting() {
            self.journal = Some(storage::imports::pause_journal(conn).await?);
        }
        Ok(())
    }

    /// The contact a row duplicates: the one with its email, or, without an email, the first
    /// with its phone and name.
    async fn same_person(&self, conn: &mut SqliteConnection, p: &Planned, seen: Seen) -> AppResult<Option<String>> {
        if let Some(email) = &p.base.primary_email {
            return Ok(storage::contacts::id_by_email(conn, &self.ws, email, seen).await?);
        }
        let Some((phone, name)) = phone_and_name(p) else {
            return Ok(None);
        };
        let holders = storage::contacts::holding_phones(conn, &self.ws, &[phone.as_str()], seen).await?;
        Ok(holders
            .into_iter()
            .find(|(_, base)| base.name_key() == name)
            .map(|(id, _)| id))
    }

    /// A row that is a duplicate or cannot be created on its own. Its duplicate may be a
    /// contact people can see or one of this import's own, still hidden; either way it is
    /// counted now and, unless skipped, kept for the last transaction (`apply_deferred`).
    async fn write_one(&mut self, conn: &mut SqliteConnection, p: Planned) -> AppResult<()> {
        if self.same_person(conn, &p, Seen::WithImports).await?.is_none() {
            let errors = self.create_errors(&p);
            if errors.is_empty() {
                // Refused by the insert, yet nobody holds its email.
                return Err(AppError::Internal(anyhow::anyhow!(
                    "line {} was neither written nor a duplicate",
                    p.line
                )));
            }
            self.refuse_row(p, errors);
            return Ok(());
        }
        self.report.duplicates += 1;
        if self.policy == OnDuplicate::Skip {
            self.report.skipped += 1;
            return Ok(());
        }
        self.deferred += 1;
        let row = DeferredRow {
            line: p.line,
            base: p.base,
            custom: p.custom,
            cells: p.cells,
            lists: p.lists,
            problems: p.problems,
            note: p.note,
        };
        let row = serde_json::to_string(&row).expect("a row serialises");
        storage::imports::defer_row(conn, &self.ws, &self.import, self.deferred, &row).await?;
        Ok(())
    }

    /// Updates or merges the kept duplicates into their contacts, in file order, inside the
    /// transaction that shows the import (after it is shown: a duplicate of the file's own
    /// earlier row finds that contact like any other).
    async fn apply_deferred(&mut self, conn: &mut SqliteConnection) -> AppResult<()> {
        const BATCH: i64 = 500;
        let mut after = 0;
        loop {
            let rows = storage::imports::deferred_rows(conn, &self.ws, &self.import, after, BATCH).await?;
            let Some((last, _)) = rows.last() else { break };
            after = *last;
            for (_, row) in rows {
                let row: DeferredRow = serde_json::from_str(&row)
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("a kept import row cannot be read: {e}")))?;
                let mut planned = Planned::of(row.line, row.base, row.custom, row.cells);
                planned.lists = row.lists;
                planned.problems = row.problems;
                planned.note = row.note;
                self.apply_duplicate(conn, planned).await?;
            }
        }
        self.store_problem_rows(conn).await
    }

    /// Combines one kept duplicate into the contact it duplicates, recording that contact as
    /// it was (for revert) the first time the import changes it.
    async fn apply_duplicate(&mut self, conn: &mut SqliteConnection, p: Planned) -> AppResult<()> {
        let Some(target) = self.same_person(conn, &p, Seen::Visible).await? else {
            // Its contact was deleted, or its email changed, while the import ran.
            let problem = Problem {
                line: p.line,
                column: None,
                value: String::new(),
                message: "row left out: the contact it duplicates was changed or deleted during the import".into(),
            };
            self.report.skipped += 1;
            self.keep_problem_row(p.line, p.cells, std::slice::from_ref(&problem));
            self.report.add_problems(vec![problem]);
            return Ok(());
        };
        let id = ContactId::parse(&target).ok_or(AppError::NotFound)?;
        // What the row had that lands on no field is kept on the contact it updates, as on a
        // new one (a revert deletes the note: it carries the import's id).
        self.keep_as_note(conn, &target, &p).await?;
        let before = storage::contacts::load(&mut *conn, &self.ws, &id)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut after = Planned::of(p.line, before.base.clone(), before.custom.clone(), Vec::new());
        combine(&mut after, &p, &self.policy);
        // Group names join the contact to their lists whatever the policy: lists are not
        // exclusive, so nothing the contact had is overwritten.
        let on = storage::lists::labels_of(&mut *conn, &self.ws, &id).await?;
        let joining: Vec<String> = p
            .lists
            .iter()
            .filter(|name| !on.iter().any(|(_, n)| n.eq_ignore_ascii_case(name)))
            .cloned()
            .collect();
        if after.base == before.base && after.custom == before.custom && joining.is_empty() {
            return Ok(());
        }
        if storage::imports::item(conn, &self.ws, &self.import, &target)
            .await?
            .is_none()
        {
            let snapshot = Before {
                base: before.base.clone(),
                custom_fields: before.custom.clone(),
                lists: Some(on.into_iter().map(|(list, _)| list).collect()),
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
        if !joining.is_empty() {
            self.memberships.push((target, joining));
        }
        Ok(())
    }

    /// In the transaction that shows the import: applies the kept duplicates and writes the
    /// search documents of the contacts they changed; the report is then final.
    pub async fn finish(mut self, conn: &mut SqliteConnection, columns: &[String]) -> AppResult<Report> {
        self.apply_deferred(conn).await?;
        self.put_on_lists(conn).await?;
        storage::imports::refresh_updated_search(conn, &self.ws, &self.import).await?;
        self.report.problem_rows = storage::import_problems::count(&mut *conn, &self.ws, &self.import).await?;
        if self.report.problem_rows > 0 {
            storage::import_problems::set_columns(conn, &self.ws, &self.import, columns).await?;
        }
        Ok(self.report)
    }
}

/// A row without an email and with a phone: that phone, and its name as `name_key` has it.
fn phone_and_name(p: &Planned) -> Option<(String, String)> {
    match (&p.base.primary_email, &p.base.primary_phone) {
        (None, Some(phone)) => Some((phone.clone(), p.base.name_key())),
        _ => None,
    }
}

/// What makes two rows of a file the same person: the email, else phone and name.
fn person_key(p: &Planned) -> Option<String> {
    match &p.base.primary_email {
        Some(email) => Some(email.clone()),
        None => phone_and_name(p).map(|(phone, name)| format!("{phone}\n{name}")),
    }
}

/// The values of `after` that `before` lacks or holds differently.
fn changed<'a>(
    before: &'a BTreeMap<String, String>,
    after: &'a BTreeMap<String, String>,
) -> impl Iterator<Item = (&'a String, &'a String)> {
    after.iter().filter(move |(k, v)| before.get(*k) != Some(*v))
}
