//! Background work that lives in the database, so a restart loses nothing.

pub mod imports;
