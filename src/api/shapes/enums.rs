//! The API's closed sets of words, each mirroring the domain's enum.

use crate::domain::campaign::Status as DomainCampaignStatus;
use crate::domain::campaign::approval::{ApprovalStatus as DomainApprovalStatus, LinkEmail as DomainLinkEmail};
use crate::domain::merge::Side as DomainSide;
use crate::domain::messaging::status::MessageStatus as DomainMessageStatus;
use crate::model::access::Role as DomainRole;
use crate::model::channel::Channel as DomainChannel;
use crate::model::query::FieldType as DomainFieldType;
use crate::model::suppression::SuppressionScope as DomainSuppressionScope;

wire_enum! {
    /// `email` or `text`.
    Channel mirrors DomainChannel as "lowercase" { Email, Text }
}

wire_enum! {
    /// What a suppression stops: `marketing` (campaigns only) or `all`.
    SuppressionScope mirrors DomainSuppressionScope as "lowercase" { Marketing, All }
}

wire_enum! {
    /// A custom field's type.
    FieldType mirrors DomainFieldType as "snake_case" {
        Text, LongText, Number, Date, Datetime, Boolean, Email, Phone, Url, Select, Json,
    }
}

wire_enum! {
    /// What a member may do in a workspace.
    Role mirrors DomainRole as "lowercase" { Viewer, Editor, Owner }
}

wire_enum! {
    /// Where a message is on its way.
    MessageStatus mirrors DomainMessageStatus as "lowercase" {
        Queued, Unknown, Sent, Failed, Bounced, Delivered, Opened, Clicked, Received,
    }
}

wire_enum! {
    /// Where a campaign is in its life.
    CampaignStatus mirrors DomainCampaignStatus as "snake_case" {
        Draft, PendingApproval, Approved, Rejected, Scheduled, Sending, Paused, Sent, Cancelled,
    }
}

wire_enum! {
    /// The reviewer's decision on a submitted campaign; `void` once the campaign changed.
    ApprovalStatus mirrors DomainApprovalStatus as "lowercase" {
        Pending, Approved, Rejected, Void,
    }
}

wire_enum! {
    /// How the email with the reviewer's link went: `sending` (in the outbox or on its way),
    /// `sent`, `failed`, or `unknown` (it may not have been sent).
    LinkEmail mirrors DomainLinkEmail as "lowercase" {
        Sending, Sent, Failed, Unknown,
    }
}

wire_enum! {
    /// Which contact's value a merge keeps: `this` or `other`.
    Side mirrors DomainSide as "lowercase" { This, Other }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word the API writes for a value, as serde writes it.
    fn word<T: serde::Serialize>(value: T) -> String {
        serde_json::to_value(value).unwrap().as_str().unwrap().to_string()
    }

    /// The API spells every value as the database, the forms and the pages do: one name per
    /// value, wherever it shows.
    #[test]
    fn the_api_spells_each_value_as_the_rest_of_pi_crm_does() {
        for &c in Channel::ALL {
            assert_eq!(word(c), DomainChannel::from(c).as_str());
        }
        for &s in SuppressionScope::ALL {
            assert_eq!(word(s), DomainSuppressionScope::from(s).as_str());
        }
        for &t in FieldType::ALL {
            assert_eq!(DomainFieldType::parse(&word(t)), Some(DomainFieldType::from(t)));
        }
        for &r in Role::ALL {
            assert_eq!(word(r), DomainRole::from(r).as_str());
        }
        for &m in MessageStatus::ALL {
            assert_eq!(word(m), DomainMessageStatus::from(m).as_str());
        }
        for &c in CampaignStatus::ALL {
            assert_eq!(word(c), DomainCampaignStatus::from(c).as_str());
        }
        for &a in ApprovalStatus::ALL {
            assert_eq!(word(a), DomainApprovalStatus::from(a).as_str());
        }
        for &l in LinkEmail::ALL {
            assert_eq!(word(l), DomainLinkEmail::from(l).as_str());
        }
        assert_eq!(
            Side::ALL.iter().map(|&s| word(s)).collect::<Vec<_>>(),
            ["this", "other"]
        );
    }

    /// The document lists the same words the server writes.
    #[test]
    fn the_document_lists_the_words_the_server_writes() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(FieldType::schema()).unwrap();
        let listed: Vec<String> = serde_json::from_value(schema["enum"].clone()).unwrap();
        let written: Vec<String> = FieldType::ALL.iter().map(|&t| word(t)).collect();
        assert_eq!(listed, written);
        assert_eq!(written[1], "long_text");
    }
}
