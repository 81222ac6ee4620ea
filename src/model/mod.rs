//! The words the domain and storage both speak, below both of them: typed ids, the page a
//! list is read in, and the proof of access to a workspace. The arrows run one way — faces →
//! domain → storage → model — so nothing here reaches the domain or storage.

pub mod access;
pub mod channel;
pub mod ids;
pub mod page;
pub mod query;
pub mod suppression;
