//! Messaging (SPEC §8): everything about email and texts in one place.
//!
//! - `channel`: email or text, the one enum every part uses;
//! - `send`: one message to a contact, checked and queued with its timeline entry;
//! - `outbox`: the outbox's states and the only transitions between them, and what a
//!   provider's answer does to a row (`jobs::outbox` is the pump that claims and calls it);
//! - `senders`: which provider carries a row, and the rate each is held to;
//! - `status`: a message's status on its timeline entry, and the rule that moves it;
//! - `suppression`, `unsubscribe`: who must not be reached, and the one-click way off;
//! - `inbound`: what providers report back (statuses, replies, STOP);
//! - `polling`: the same, asked for when webhooks cannot reach pi-crm;
//! - `providers`: each workspace's provider settings, and the adapters made from them.

pub mod channel;
pub mod inbound;
pub mod outbox;
pub mod polling;
pub mod providers;
pub mod send;
pub mod senders;
pub mod status;
pub mod suppression;
pub mod unsubscribe;

pub use channel::Channel;
pub use status::MessageStatus;
