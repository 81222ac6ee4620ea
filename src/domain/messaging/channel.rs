//! The two ways a message reaches a person: email and text. One enum for the outbox, the
//! suppression list, templates and campaigns; the database and the API spell them `email`
//! and `text`.

use crate::domain::phone::Phone;
use crate::domain::user::Email;
use crate::error::AppResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Text,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Text => "text",
        }
    }

    /// `email` or `text`, as the API and the forms name them.
    pub fn parse(text: &str) -> Option<Channel> {
        match text.trim() {
            "email" => Some(Channel::Email),
            "text" => Some(Channel::Text),
            _ => None,
        }
    }

    /// A channel column read back from the database, whose CHECK allows only `email` and
    /// `text`: anything else is a damaged row, taken as a text (the narrower channel).
    pub fn stored(text: &str) -> Channel {
        Channel::parse(text).unwrap_or(Channel::Text)
    }

    /// The address as stored: a lower-case email, or a number in E.164.
    pub fn normalise(self, raw: &str, default_region: &str, field: &str) -> AppResult<String> {
        match self {
            Channel::Email => Ok(Email::parse(raw, field)?.as_str().to_string()),
            Channel::Text => Ok(Phone::parse(raw, default_region, field)?.into_string()),
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
