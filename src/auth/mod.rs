//! Who is calling: passwords, sessions, API keys, client addresses and rate limits.

pub mod api_key;
pub mod client_ip;
pub mod cookies;
pub mod device;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod tokens;
pub mod workspace;
