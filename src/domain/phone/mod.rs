//! Phone numbers, stored in E.164. Numbers typed without a `+` are read in the configured
//! default region (US unless set otherwise).

use std::str::FromStr;

use phonenumber::country;

use crate::error::{AppError, AppResult};
pub use crate::model::query::search_digits;

mod nanp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str, default_region: &str, field: &str) -> AppResult<Phone> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(AppError::invalid(field, "a phone number is required"));
        }
        if text.len() > 40 {
            return Err(AppError::invalid(field, "a phone number is at most 40 characters"));
        }
        // A number written with its country code is read without the default region: given
        // one, the phonenumber crate strips *that* region's national prefix from any number
        // (a US default took the 1 off +86 139…, a different valid Chinese number).
        if let Some(e164) = nanp::e164(text, default_region) {
            return Ok(Phone(e164));
        }
        let region = if text.starts_with('+') {
            None
        } else {
            country::Id::from_str(default_region).ok()
        };
        let number = phonenumber::parse(region, text)
            .map_err(|_| AppError::invalid(field, format!("{text:?} is not a phone number")))?;
        if !phonenumber::is_valid(&number) {
            return Err(AppError::invalid(
                field,
                format!("{text:?} is not a valid phone number"),
            ));
        }
        Ok(Phone(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// How a stored E.164 number reads to a person: `+1 415-555-0123`.
pub fn display(e164: &str) -> String {
    if let Some(shown) = nanp::display(e164) {
        return shown;
    }
    phonenumber::parse(None, e164)
        .map(|n| n.format().mode(phonenumber::Mode::International).to_string())
        .unwrap_or_else(|_| e164.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_to_e164() {
        assert_eq!(
            Phone::parse("(415) 555-0123", "US", "p").unwrap().as_str(),
            "+14155550123"
        );
        assert_eq!(
            Phone::parse("+44 20 7946 0958", "US", "p").unwrap().as_str(),
            "+442079460958"
        );
        assert_eq!(Phone::parse("030 901820", "DE", "p").unwrap().as_str(), "+4930901820");
        // International numbers keep every digit whatever the default region.
        for (written, e164) in [
            ("+86 139 1099 8888", "+8613910998888"),
            ("+86 10 6552 9988", "+861065529988"),
            ("+49 30 901820", "+4930901820"),
            ("+44 20 7946 0958", "+442079460958"),
            ("+1 415 555 0123", "+14155550123"),
        ] {
            for region in ["US", "DE", "CN"] {
                assert_eq!(
                    Phone::parse(written, region, "p").unwrap().as_str(),
                    e164,
                    "{written} in {region}"
                );
            }
        }
        assert!(Phone::parse("12", "US", "p").is_err());
        assert!(Phone::parse("call me", "US", "p").is_err());
        assert_eq!(search_digits("(415) 555"), Some("415555".into()));
        assert_eq!(search_digits("ada"), None);
    }
}
