//! What an address is on each channel (the enum itself is `model::channel::Channel`, which
//! storage's rows carry too).

use crate::domain::phone::Phone;
use crate::domain::user::Email;
use crate::error::AppResult;
pub use crate::model::channel::Channel;

impl Channel {
    /// The address as stored: a lower-case email, or a number in E.164.
    pub fn normalise(self, raw: &str, default_region: &str, field: &str) -> AppResult<String> {
        match self {
            Channel::Email => Ok(Email::parse(raw, field)?.as_str().to_string()),
            Channel::Text => Ok(Phone::parse(raw, default_region, field)?.into_string()),
        }
    }
}
