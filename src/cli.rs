//! The command line (SPEC §3). Each command prints its result to stdout; errors are one plain
//! sentence on stderr with a non-zero exit code.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::app::{self, App};
use crate::config::{Config, Overrides};
use crate::domain::actor::{Actor, Via};
use crate::domain::api_key::{self, NewKey};
use crate::domain::user;
use crate::domain::workspace;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Parser)]
#[command(name = "pi-crm", version, about = "A self-hosted household CRM")]
struct Cli {
    /// Where the database, secret key and backups live.
    #[arg(long, global = true, env = "PI_CRM_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A TOML config file.
    #[arg(long, global = true, env = "PI_CRM_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve {
        /// Address and port to listen on.
        #[arg(long, env = "PI_CRM_BIND")]
        bind: Option<SocketAddr>,
        /// Address and port of the public listener: only review and unsubscribe pages,
        /// webhooks and /healthz (point a tunnel or proxy here, never at --bind).
        #[arg(long, env = "PI_CRM_PUBLIC_BIND")]
        public_bind: Option<SocketAddr>,
    },
    /// Apply pending database migrations (serve does this too).
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Apikey(KeyCommand),
    /// Import a CSV or vCard file into a workspace (all or nothing); prints the report.
    Import {
        #[arg(long)]
        user: String,
        /// The workspace's id or name.
        #[arg(long)]
        workspace: String,
        /// A mapping JSON file (SPEC §11); without one, the columns are recognised.
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// skip, update or merge (overrides the mapping file's).
        #[arg(long)]
        on_duplicate: Option<String>,
        file: PathBuf,
    },
    /// Make a checked backup of the database now (safe while the server runs); prints the file.
    Backup {
        /// Write it here instead of the backup directory (kept as is, no retention).
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Put a backup in place of the database. Refused while a server runs on the data dir.
    Restore {
        file: PathBuf,
        /// Restore even though a server holds the data directory.
        #[arg(long)]
        force: bool,
    },
    /// Scheduled jobs: list them, or run one now.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Print the API's OpenAPI 3.1 document (the same as GET /api/v1/openapi.json), for
    /// generating a client without a running server.
    Openapi,
    /// Write every contact of a workspace to stdout as CSV or vCard 4.0.
    Export {
        /// The email of the account whose workspace it is (or who it is shared with).
        #[arg(long)]
        user: String,
        /// The workspace's id or name.
        #[arg(long)]
        workspace: String,
        /// csv or vcf.
        #[arg(long, default_value = "csv")]
        format: String,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Each job with its last and next run.
    List,
    /// Run one job now and exit (safe beside a running server: a run is claimed through the
    /// database, never done twice).
    Run { name: String },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List accounts.
    List,
    /// Set a new password for an account; ends all its sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        password: PasswordSource,
    },
}

#[derive(Args)]
struct PasswordSource {
    /// Read the password from the first line of standard input instead of prompting.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create a key; prints it once, alone on the last line.
    Create {
        /// The email of the account the key acts for.
        #[arg(long)]
        user: String,
        /// Comma-separated scopes, e.g. read:contacts,write:contacts.
        #[arg(long)]
        scopes: String,
        /// Pin the key to one workspace (its id or its name).
        #[arg(long)]
        workspace: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// Last day the key works (YYYY-MM-DD, UTC).
        #[arg(long)]
        expires: Option<String>,
    },
    /// List an account's keys.
    List {
        #[arg(long)]
        user: String,
    },
    /// Revoke a key by id.
    Revoke { id: String },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    let mut m = message.trim_end_matches('.').to_string();
    if let Some(first) = m.get(..1) {
        m = first.to_uppercase() + &m[1..];
    }
    eprintln!("error: {m}.");
    ExitCode::FAILURE
}

/// A domain error as one sentence: field errors name the field.
fn sentence(e: AppError) -> anyhow::Error {
    match e {
        AppError::Internal(inner) => inner,
        AppError::Invalid { field, message } if !field.is_empty() => {
            anyhow::anyhow!("{field}: {message}")
        }
        AppError::NotFound => anyhow::anyhow!("no such item"),
        other => anyhow::anyhow!("{}", other.public_message()),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (bind, public_bind) = match &cli.command {
        Command::Serve { bind, public_bind } => (*bind, *public_bind),
        _ => (None, None),
    };
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        bind,
        public_bind,
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    // A command run by hand prints its outcome; its log says only what failed, unless someone
    // asks for more (`PI_CRM_LOG=pi_crm::domain::import=info`: an import's steps).
    if !matches!(cli.command, Command::Serve { .. }) {
        crate::telemetry::init(if std::env::var_os("PI_CRM_LOG").is_some() {
            &config.log
        } else {
            "error"
        });
    }
    match cli.command {
        Command::Serve { .. } => serve(config).await,
        Command::Migrate => {
            app::open_state(config).await?;
            println!("the database is up to date");
            Ok(())
        }
        Command::User(cmd) => user_command(config, cmd).await,
        Command::Apikey(cmd) => key_command(config, cmd).await,
        Command::Import {
            user,
            workspace,
            mapping,
            on_duplicate,
            file,
        } => {
            import_command(
                config,
                &user,
                &workspace,
                mapping.as_deref(),
                on_duplicate.as_deref(),
                &file,
            )
            .await
        }
        Command::Export {
            user,
            workspace,
            format,
        } => export_command(config, &user, &workspace, &format).await,
        Command::Backup { to } => {
            let state = app::open_state(config).await?;
            let backup = crate::backup::make(&state.db, &state.config, to.as_deref()).await?;
            println!("{}", backup.path.display());
            Ok(())
        }
        Command::Restore { file, force } => {
            let restored = crate::backup::restore::restore(&config, &file, force).await?;
            match restored.kept {
                Some(kept) => println!(
                    "restored {} into {}; the database it replaced is kept as {}",
                    file.display(),
                    restored.database.display(),
                    kept.display()
                ),
                None => println!("restored {} into {}", file.display(), restored.database.display()),
            }
            Ok(())
        }
        Command::Jobs(cmd) => jobs_command(config, cmd).await,
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&crate::api::openapi::json())?);
            Ok(())
        }
    }
}

async fn jobs_command(config: Config, cmd: JobsCommand) -> anyhow::Result<()> {
    use crate::jobs::{Job, scheduler};
    let state = app::open_state(config).await?;
    let now = state.clock.now();
    match cmd {
        JobsCommand::List => {
            for job in Job::ALL {
                scheduler::ensure_row(&state, job, now).await?;
            }
            println!("{:<15} {:<22} {:<22} last error", "job", "last run", "next run");
            for row in scheduler::listing(&state).await? {
                println!(
                    "{:<15} {:<22} {:<22} {}",
                    row.name,
                    row.last_run_at.as_deref().unwrap_or("never"),
                    row.next_run_at,
                    row.last_error.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
        JobsCommand::Run { name } => {
            let job = Job::parse(&name).ok_or_else(|| {
                let names: Vec<&str> = Job::ALL.iter().map(|j| j.name()).collect();
                anyhow::anyhow!("there is no job called {name:?}; the jobs are: {}", names.join(", "))
            })?;
            match scheduler::run_by_hand(&state, job).await? {
                scheduler::ByHand::Busy => anyhow::bail!(
                    "the {} job is running right now (in the server); try again when it has finished",
                    job.name()
                ),
                scheduler::ByHand::Ran(outcome) => println!("{}", outcome?),
            }
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    crate::telemetry::init(&config.log);
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
    let data_dir = config.data_dir.clone();
    let bind = config.bind;
    let app = App::build(config, listener).await?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        data_dir = %data_dir.display(),
        "pi-crm is listening: open {}",
        address_to_open(bind, app.port())
    );
    if let Some(public) = app.public_address() {
        tracing::info!("the public listener is on {public}: review and unsubscribe pages, webhooks and /healthz only");
    }
    app.run_until(shutdown_signal()).await
}

/// What a person types into a browser: the bound address, or — when bound to every
/// interface — this machine's own name on the network.
fn address_to_open(bind: SocketAddr, port: u16) -> String {
    if bind.ip().is_unspecified() {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .map(|h| format!("{h}.local"))
            .unwrap_or_else(|| "<this machine's address>".into());
        format!("http://{host}:{port}/ (or http://127.0.0.1:{port}/ on this machine)")
    } else {
        format!("http://{}/", SocketAddr::new(bind.ip(), port))
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

fn read_password(source: &PasswordSource) -> anyhow::Result<String> {
    if source.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let password = line.trim_end_matches(['\n', '\r']).to_string();
        if password.is_empty() {
            anyhow::bail!("no password was given on standard input");
        }
        return Ok(password);
    }
    let first = rpassword::prompt_password("Password: ")
        .map_err(|_| anyhow::anyhow!("cannot prompt for a password here; use --password-stdin"))?;
    let again = rpassword::prompt_password("Again: ")?;
    if first != again {
        anyhow::bail!("the two passwords differ");
    }
    Ok(first)
}

async fn user_command(config: Config, cmd: UserCommand) -> anyhow::Result<()> {
    let state = app::open_state(config).await?;
    let db = &state.db;
    match cmd {
        UserCommand::Create { email, name, password } => {
            let password = read_password(&password)?;
            let u = user::create(db, None, Via::Cli, &email, &name, &password)
                .await
                .map_err(sentence)?;
            println!("created {} ({})", u.email, u.id);
        }
        UserCommand::List => {
            for u in user::everyone(db).await? {
                println!("{}\t{}\t{}\t{}", u.id, u.email, u.name, u.created_at);
            }
        }
        UserCommand::ResetPassword { email, password } => {
            let target = find_user(db, &email).await?;
            let password = read_password(&password)?;
            let actor = Actor::person(target.id.clone(), Via::Cli);
            user::reset_password(db, &actor, &email, &password)
                .await
                .map_err(sentence)?;
            println!("password changed for {}; their sessions have ended", target.email);
        }
    }
    Ok(())
}

async fn find_user(db: &sqlx::SqlitePool, email: &str) -> anyhow::Result<user::User> {
    let email = email.trim().to_lowercase();
    user::by_email(db, &email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account has the email {email}"))
}

async fn key_command(config: Config, cmd: KeyCommand) -> anyhow::Result<()> {
    let state = app::open_state(config).await?;
    let db = &state.db;
    match cmd {
        KeyCommand::Create {
            user,
            scopes,
            workspace: ws,
            description,
            expires,
        } => {
            let owner = find_user(db, &user).await?;
            let actor = Actor::person(owner.id.clone(), Via::Cli);
            let workspace_id = match ws {
                Some(w) => Some(workspace_by_id_or_name(db, &actor, &w).await?.id().to_string()),
                None => None,
            };
            let new = NewKey {
                description,
                scopes: scopes.split(',').map(str::to_string).collect(),
                workspace_id,
                expires_at: expires,
            };
            let created = api_key::create(db, &actor, new).await.map_err(sentence)?;
            eprintln!(
                "API key {} for {} — shown once, keep it safe:",
                created.view.id, owner.email
            );
            println!("{}", created.key);
        }
        KeyCommand::List { user } => {
            let owner = find_user(db, &user).await?;
            let actor = Actor::person(owner.id, Via::Cli);
            for k in api_key::list(db, &actor).await.map_err(sentence)? {
                println!(
                    "{}\tpcrm_{}_…\t{}\t{}\t{}",
                    k.id,
                    k.prefix,
                    k.scopes.join(","),
                    k.expires_at.as_deref().unwrap_or("never expires"),
                    k.description
                );
            }
        }
        KeyCommand::Revoke { id } => {
            let key_id = crate::domain::ids::ApiKeyId::parse(id.trim())
                .ok_or_else(|| anyhow::anyhow!("no active key has the id {id}"))?;
            if !api_key::revoke_by_operator(db, &key_id).await.map_err(sentence)? {
                anyhow::bail!("no active key has the id {id}");
            }
            println!("revoked {id}");
        }
    }
    Ok(())
}

async fn workspace_by_id_or_name(
    db: &sqlx::SqlitePool,
    actor: &Actor,
    text: &str,
) -> anyhow::Result<workspace::WorkspaceAccess> {
    let all = workspace::list(db, actor).await.map_err(sentence)?;
    let by_id = all.iter().position(|w| w.id().as_str() == text);
    let found = by_id.or_else(|| all.iter().position(|w| w.name() == text));
    found
        .map(|i| all[i].clone())
        .ok_or_else(|| anyhow::anyhow!("the account has no workspace called {text}"))
}

/// Opens the data dir and a workspace of an account, acting as that account (import, export).
async fn open_workspace(
    config: Config,
    user_email: &str,
    ws: &str,
) -> anyhow::Result<(AppState, Actor, workspace::WorkspaceAccess)> {
    let state = app::open_state(config).await?;
    let owner = find_user(&state.db, user_email).await?;
    let actor = Actor::person(owner.id, Via::Cli);
    let ws = workspace_by_id_or_name(&state.db, &actor, ws).await?;
    Ok((state, actor, ws))
}

async fn export_command(config: Config, user_email: &str, ws: &str, format: &str) -> anyhow::Result<()> {
    use futures_util::StreamExt;
    use std::io::Write;
    let (state, actor, ws) = open_workspace(config, user_email, ws).await?;
    let db = &state.db;
    let format = crate::domain::export::Format::parse(format).map_err(sentence)?;
    let export = crate::domain::export::prepare(db, &actor, &ws, format)
        .await
        .map_err(sentence)?;
    let mut stream = std::pin::pin!(export.stream());
    let mut out = std::io::stdout().lock();
    while let Some(chunk) = stream.next().await {
        out.write_all(&chunk?)?;
    }
    out.flush()?;
    Ok(())
}

async fn import_command(
    config: Config,
    user_email: &str,
    ws: &str,
    mapping_file: Option<&std::path::Path>,
    on_duplicate: Option<&str>,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    use crate::domain::import::{job, mapping::Mapping};
    let (state, actor, ws) = open_workspace(config, user_email, ws).await?;
    let db = &state.db;
    let upload = state
        .imports
        .copy_upload(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let mapping: Option<Mapping> = match mapping_file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            Some(serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("the mapping file is not valid: {e}"))?)
        }
        None => None,
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let upload = job::Upload {
        filename: name,
        file: upload,
        mapping,
        on_duplicate: on_duplicate.map(str::to_string),
    };
    let created = job::create(db, &state.imports, &actor, &ws, upload, false)
        .await
        .map_err(sentence)?;
    crate::jobs::imports::drain(&state).await?;
    // A running server may have picked the job up first: wait for it to finish there.
    let view = loop {
        let id = crate::domain::ids::ImportId::parse(&created.id).expect("the import's own id");
        let view = job::get(db, &state.imports, &actor, &ws, &id).await.map_err(sentence)?;
        if !matches!(view.status.as_str(), "queued" | "running") {
            break view;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let r = &view.report;
    println!(
        "import {}: {} ({} created, {} updated, {} duplicates, {} skipped)",
        view.id, view.status, r.created, r.updated, r.duplicates, r.skipped
    );
    let place = |line: u64, column: Option<&str>| {
        format!(
            "line {line}{}",
            column.map(|c| format!(", column {c}")).unwrap_or_default()
        )
    };
    for e in &r.errors {
        eprintln!("{}: {}", place(e.line, e.column.as_deref()), e.message);
    }
    for p in &r.problems {
        eprintln!(
            "{}: {:?} left empty: {}",
            place(p.line, p.column.as_deref()),
            p.value,
            p.message
        );
    }
    if r.problems_total > r.problems.len() as u64 {
        eprintln!("… and {} more problems", r.problems_total - r.problems.len() as u64);
    }
    if view.status != "done" {
        anyhow::bail!("nothing was imported: {} row problem(s), listed above", r.errors.len());
    }
    Ok(())
}
