//! A message's status on its timeline entry, and the one rule for moving it: only forward
//! (`queued` → `unknown` → `sent` → `failed`/`bounced` → `delivered` → `opened` → `clicked`).
//! Providers report out of order and retry, so a late `sent` must not hide a `delivered`, and
//! a repeat changes nothing. `received` (an inbound text) is where it starts and stays.

use crate::domain::workspace::WorkspaceAccess;
use crate::storage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    Queued,
    Unknown,
    Sent,
    Failed,
    Bounced,
    Delivered,
    Opened,
    Clicked,
    Received,
}

impl MessageStatus {
    const ALL: [MessageStatus; 9] = [
        MessageStatus::Queued,
        MessageStatus::Unknown,
        MessageStatus::Sent,
        MessageStatus::Failed,
        MessageStatus::Bounced,
        MessageStatus::Delivered,
        MessageStatus::Opened,
        MessageStatus::Clicked,
        MessageStatus::Received,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Queued => "queued",
            MessageStatus::Unknown => "unknown",
            MessageStatus::Sent => "sent",
            MessageStatus::Failed => "failed",
            MessageStatus::Bounced => "bounced",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Opened => "opened",
            MessageStatus::Clicked => "clicked",
            MessageStatus::Received => "received",
        }
    }

    pub fn parse(text: &str) -> Option<MessageStatus> {
        MessageStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// How far along it is; `None` for a status no report moves (`received`).
    fn rank(self) -> Option<u8> {
        Some(match self {
            MessageStatus::Queued => 0,
            MessageStatus::Unknown => 1,
            MessageStatus::Sent => 2,
            MessageStatus::Failed | MessageStatus::Bounced => 3,
            MessageStatus::Delivered => 4,
            MessageStatus::Opened => 5,
            MessageStatus::Clicked => 6,
            MessageStatus::Received => return None,
        })
    }

    /// Whether a message in `self` may move to `to`.
    pub fn may_become(self, to: MessageStatus) -> bool {
        matches!((self.rank(), to.rank()), (Some(from), Some(to)) if from < to)
    }

    /// The statuses a message may be in to move to `self`: what storage's guarded update
    /// takes, so the rule is written here only.
    pub fn reachable_from(self) -> Vec<&'static str> {
        MessageStatus::ALL
            .into_iter()
            .filter(|from| from.may_become(self))
            .map(MessageStatus::as_str)
            .collect()
    }

    /// Whether a report of it proves the message left (the provider has it).
    pub fn went_out(self) -> bool {
        matches!(
            self,
            MessageStatus::Sent
                | MessageStatus::Delivered
                | MessageStatus::Opened
                | MessageStatus::Clicked
                | MessageStatus::Bounced
        )
    }
}

/// Moves timeline entry `entry` to `to` if the rule allows it (in the caller's transaction);
/// true when it changed.
pub async fn advance(
    conn: &mut sqlx::SqliteConnection,
    ws: &WorkspaceAccess,
    entry: &str,
    to: MessageStatus,
) -> Result<bool, sqlx::Error> {
    storage::comms::advance_status(conn, ws, entry, to.as_str(), &to.reachable_from()).await
}

#[cfg(test)]
mod tests {
    use super::MessageStatus::{self, *};

    #[test]
    fn a_status_only_moves_forward() {
        assert!(Queued.may_become(Sent));
        assert!(
            Unknown.may_become(Sent),
            "a delivery report proves an unknown message went"
        );
        assert!(Sent.may_become(Delivered));
        assert!(
            Failed.may_become(Delivered),
            "a late delivery report wins over a failure"
        );
        assert!(!Delivered.may_become(Sent), "a late `sent` must not hide a `delivered`");
        assert!(!Opened.may_become(Delivered));
        assert!(!Sent.may_become(Sent), "a repeat changes nothing");
        assert!(!Bounced.may_become(Failed) && !Failed.may_become(Bounced));
        assert!(!Received.may_become(Sent) && !Queued.may_become(Received));
    }

    #[test]
    fn storage_is_given_exactly_the_earlier_statuses() {
        assert_eq!(Sent.reachable_from(), ["queued", "unknown"]);
        assert_eq!(
            Delivered.reachable_from(),
            ["queued", "unknown", "sent", "failed", "bounced"]
        );
        assert!(Queued.reachable_from().is_empty());
        for s in MessageStatus::ALL {
            assert_eq!(MessageStatus::parse(s.as_str()), Some(s));
        }
    }
}
