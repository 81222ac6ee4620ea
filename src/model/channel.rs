//! The two ways a message reaches a person: email and text. One enum for the outbox, the
//! suppression list, templates and campaigns; the database and the API spell them `email`
//! and `text`.

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
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Channel {
    type Error = String;

    fn try_from(text: String) -> Result<Channel, String> {
        Channel::parse(&text).ok_or_else(|| format!("{text:?} is not a channel"))
    }
}

/// Pages compare a channel with its name (`t.channel == "email"`).
impl PartialEq<&str> for Channel {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
