pub mod audit;
pub mod backups;
pub mod contacts;
pub mod fields;
pub mod imports;
pub mod keys;
pub mod lists;
pub mod workspaces;
