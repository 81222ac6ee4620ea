//! Ids in the OpenAPI document: the canonical lower-case hyphenated UUID that
//! `model::ids` parses, nothing else.

use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};

use crate::model::ids::{self, UUID_PATTERN};

/// A canonical id as a schema.
pub fn uuid_schema() -> utoipa::openapi::schema::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("uuid".into())))
        .pattern(Some(UUID_PATTERN))
        .build()
}

macro_rules! id_schema {
    ($($name:ident),* $(,)?) => {$(
        impl utoipa::PartialSchema for ids::$name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                uuid_schema().into()
            }
        }

        impl utoipa::ToSchema for ids::$name {}
    )*};
}

// The ids a body may carry; a path's ids are described by `openapi_tidy`.
id_schema!(ContactId, WorkspaceId, TemplateId);
