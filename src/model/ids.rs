//! A type per id (habit 2), so a `WorkspaceId` can never be passed where a `UserId` belongs.
//! Ids are UUIDv7: unique, and ordered by creation time, which cursor pagination relies on.

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(String);

        /// Only a canonical id deserialises (from a path or a body): anything else is refused
        /// before it reaches a query.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| serde::de::Error::custom(concat!("not a valid ", stringify!($name))))
            }
        }

        impl $name {
            pub fn generate() -> Self {
                $name(uuid::Uuid::now_v7().hyphenated().to_string())
            }

            /// Accepts only the canonical hyphenated form, so an id from a URL either names a
            /// row exactly or is not found.
            pub fn parse(text: &str) -> Option<Self> {
                let parsed = uuid::Uuid::try_parse(text).ok()?;
                let canonical = parsed.hyphenated().to_string();
                (canonical == text).then_some($name(canonical))
            }

            /// `parse` for an id a form or a query names: malformed is "not found", as for
            /// an id that names nothing.
            pub fn found(text: &str) -> Result<Self, crate::error::AppError> {
                Self::parse(text.trim()).ok_or(crate::error::AppError::NotFound)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

/// The canonical form `parse` accepts, as a pattern (the OpenAPI document states it).
pub const UUID_PATTERN: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

id_type!(
    UserId,
    WorkspaceId,
    ApiKeyId,
    SessionId,
    AuditId,
    ContactId,
    FieldDefinitionId,
    ListId,
    CommunicationId,
    ImportId,
    SuppressionId,
    OutboxId,
    InboxMessageId,
    TemplateId,
    InsightId,
    CampaignId,
    ApprovalId
);

/// The smallest UUIDv7 made at or after `t`: ids are ordered by creation time, so "made since
/// `t`" is one index range (`id >= v7_floor(t)`).
pub fn v7_floor(t: jiff::Timestamp) -> String {
    let hex = format!("{:012x}", t.as_millisecond().max(0));
    format!("{}-{}-7000-8000-000000000000", &hex[..8], &hex[8..12])
}
