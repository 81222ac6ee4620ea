//! Where an import's time goes, step by step, logged when it finishes (issue 35: find the cost
//! before changing it). Cheap enough to keep on: a clock read around each batch's statements.

use std::fmt;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Steps {
    took: Vec<(&'static str, Duration)>,
}

impl Steps {
    /// Adds the time since `since` to `step`.
    pub fn add(&mut self, step: &'static str, since: Instant) {
        let spent = since.elapsed();
        match self.took.iter_mut().find(|(s, _)| *s == step) {
            Some((_, total)) => *total += spent,
            None => self.took.push((step, spent)),
        }
    }
}

/// `insert 3.1 s · values 2.0 s · …`, in the order the steps first ran.
impl fmt::Display for Steps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .took
            .iter()
            .map(|(step, d)| format!("{step} {:.2} s", d.as_secs_f64()))
            .collect();
        f.write_str(&parts.join(" · "))
    }
}
