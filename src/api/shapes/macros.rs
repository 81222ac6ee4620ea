/// A closed set of words on the wire, beside the domain enum it mirrors. Both conversions are
/// `match`es over every variant, so a variant added to the domain does not compile until the
/// API's enum (and so the OpenAPI document) has it too.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident mirrors $domain:ident as $case:tt { $($variant:ident),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = $case)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every word, in declaration order.
            #[allow(dead_code)]
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
        }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                match value {
                    $($domain::$variant => $name::$variant),+
                }
            }
        }

        impl From<$name> for $domain {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => $domain::$variant),+
                }
            }
        }
    };
}
