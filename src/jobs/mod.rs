//! Background work that lives in the database, so a restart loses nothing: the import worker,
//! and the scheduled jobs (SPEC §15). A scheduled job is one file here and one line in `Job`.

pub mod backup;
pub mod campaigns;
pub mod imports;
pub mod insights;
pub mod outbox;
pub mod provider_events;
pub mod scheduler;
pub mod weekly_summary;

use jiff::Timestamp;

use crate::config::Config;
use crate::state::AppState;

/// The scheduled jobs, by the names `pi-crm jobs run` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Backup,
    /// Continuous in the server (its own worker); the scheduler's minute run is a safety net.
    Outbox,
    Insights,
    WeeklySummary,
    /// Starts scheduled campaigns and sends each day's yearly occurrences (every minute).
    YearlyCampaigns,
    /// Asks Mailgun and Twilio for what their webhooks would push (every minute).
    ProviderEvents,
}

impl Job {
    pub const ALL: [Job; 6] = [
        Job::Backup,
        Job::Outbox,
        Job::Insights,
        Job::WeeklySummary,
        Job::YearlyCampaigns,
        Job::ProviderEvents,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::Backup => "backup",
            Job::Outbox => "outbox",
            Job::Insights => "insights",
            Job::WeeklySummary => "weekly-summary",
            Job::YearlyCampaigns => "yearly-campaigns",
            Job::ProviderEvents => "provider-events",
        }
    }

    pub fn parse(name: &str) -> Option<Job> {
        Job::ALL.into_iter().find(|j| j.name() == name.trim())
    }

    /// When it runs next, after `after` (a run missed while the Pi was off runs once, at
    /// start, and then keeps to this).
    pub fn next_after(self, after: Timestamp, config: &Config) -> anyhow::Result<Timestamp> {
        match self {
            Job::Backup => backup::next_after(after, config),
            Job::Outbox => Ok(after.checked_add(jiff::SignedDuration::from_mins(1))?),
            Job::Insights => insights::next_after(after, config),
            Job::WeeklySummary => Ok(weekly_summary::next_after(after)),
            Job::YearlyCampaigns => Ok(campaigns::next_after(after)),
            Job::ProviderEvents => provider_events::next_after(after),
        }
    }

    /// How soon a failed run is tried again.
    pub fn retry_after_failure(self) -> jiff::SignedDuration {
        match self {
            Job::Backup => backup::RETRY_AFTER_FAILURE,
            Job::Outbox | Job::YearlyCampaigns | Job::ProviderEvents => jiff::SignedDuration::from_mins(1),
            Job::WeeklySummary => jiff::SignedDuration::from_mins(10),
            Job::Insights => jiff::SignedDuration::from_mins(30),
        }
    }

    /// At most how long a run takes: past this, a run whose process died is claimable again.
    pub fn lease(self) -> jiff::SignedDuration {
        match self {
            Job::Backup => jiff::SignedDuration::from_hours(1),
            Job::Outbox | Job::Insights | Job::WeeklySummary | Job::YearlyCampaigns | Job::ProviderEvents => {
                jiff::SignedDuration::from_mins(30)
            }
        }
    }

    /// Does the work once; the answer is a line for the person who ran it by hand.
    pub async fn run(self, state: &AppState) -> anyhow::Result<String> {
        match self {
            Job::Backup => backup::run(state).await,
            Job::Outbox => {
                let drained = outbox::drain(state).await?;
                crate::domain::messaging::outbox::forget_old_webhook_events(state).await?;
                Ok(drained.to_string())
            }
            Job::Insights => insights::run(state).await,
            Job::WeeklySummary => weekly_summary::run(state).await,
            Job::YearlyCampaigns => campaigns::run(state).await,
            Job::ProviderEvents => provider_events::run(state).await,
        }
    }
}
