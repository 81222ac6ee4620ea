pub mod audit;
pub mod contacts;
pub mod fields;
pub mod imports;
pub mod keys;
pub mod lists;
pub mod workspaces;
