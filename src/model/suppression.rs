//! What a suppression stops (SPEC §8.4, v3). An unsubscribe is from marketing: CAN-SPAM's
//! opt-out covers commercial messages, so campaigns skip the address on that channel while a
//! loan officer can still write to a client about her closing. A hard bounce, a complaint, STOP
//! and an entry made by hand stop every send on the channel.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressionScope {
    Marketing,
    All,
}

/// Which kind of send is asking: a campaign's (marketing) or one person writing to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendKind {
    Marketing,
    OneToOne,
}

impl SuppressionScope {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionScope::Marketing => "marketing",
            SuppressionScope::All => "all",
        }
    }

    pub fn parse(text: &str) -> Option<SuppressionScope> {
        match text.trim() {
            "marketing" => Some(SuppressionScope::Marketing),
            "all" => Some(SuppressionScope::All),
            _ => None,
        }
    }

    /// The scope a reason has unless someone says otherwise: an unsubscribe is from
    /// marketing; everything else stops all sends.
    pub fn of_reason(reason: &str) -> SuppressionScope {
        if reason == "unsubscribed" {
            SuppressionScope::Marketing
        } else {
            SuppressionScope::All
        }
    }

    /// Whether a send of `kind` to the address is stopped.
    pub fn stops(self, kind: SendKind) -> bool {
        self == SuppressionScope::All || kind == SendKind::Marketing
    }
}

impl TryFrom<String> for SuppressionScope {
    type Error = String;

    fn try_from(text: String) -> Result<SuppressionScope, String> {
        SuppressionScope::parse(&text).ok_or_else(|| format!("{text:?} is not a suppression scope"))
    }
}

/// Pages compare a scope with its name.
impl PartialEq<&str> for SuppressionScope {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
