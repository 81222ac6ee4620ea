//! Token buckets keyed by string: `capacity` requests at once, refilled at `per_second`.
//! Used for the general limit (per API key, session or IP) and for login throttling.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::state::Limits;

pub struct Buckets {
    capacity: f64,
    per_second: f64,
    state: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Past this many tracked keys, full buckets (keys idle long enough to refill) are dropped.
const PRUNE_ABOVE: usize = 10_000;

impl Buckets {
    pub fn new(capacity: u32, per_second: f64) -> Buckets {
        Buckets {
            capacity: f64::from(capacity.max(1)),
            per_second,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// `n` requests a minute, all of which may come at once.
    pub fn per_minute(n: u32) -> Buckets {
        Buckets::new(n, f64::from(n) / 60.0)
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        let elapsed = now.duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_second).min(self.capacity);
        b.at = now;
    }

    /// Takes one token, or says how many whole seconds until one is free.
    pub fn take(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > PRUNE_ABOVE {
            let (cap, rate) = (self.capacity, self.per_second);
            map.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < cap);
        }
        let bucket = map.entry(key.to_string()).or_insert(Bucket {
            tokens: self.capacity,
            at: now,
        });
        self.refill(bucket, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.per_second;
            Err(wait.ceil().max(1.0) as u64)
        }
    }

    /// True when `key` has spent nothing lately (its bucket is full).
    pub fn is_full(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut map = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(key) {
            None => true,
            Some(b) => {
                self.refill(b, now);
                b.tokens >= self.capacity - 1e-9
            }
        }
    }

    /// Gives a token back (a login that succeeded should not count against the account).
    pub fn refund(&self, key: &str) {
        let mut map = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = map.get_mut(key) {
            b.tokens = (b.tokens + 1.0).min(self.capacity);
        }
    }
}

/// One sign-in attempt against its three budgets (see `Limits`): by this source at this
/// account, at this account from anywhere, and from this source at any account (a source is an
/// address, or an IPv6 /64). A guesser spends the budgets of their own source, so the owner
/// signing in from another one is never locked out by them; spreading guesses over many
/// sources runs into the account's budget. Once that is spent, the owner still gets through
/// with the right password from a browser that signed in before (`Known::Device`), or — a few
/// times an hour — from a source with no failures lately (`Known::CleanSource`): such an
/// attempt `must_succeed`, and a wrong password there is answered as throttled, so it tells a
/// guesser nothing. A successful sign-in gives its tokens back.
pub struct LoginAttempt<'a> {
    limits: &'a Limits,
    keys: [String; 3],
    took_account: bool,
    /// Let past the spent account budget: a wrong password is answered as throttled.
    pub must_succeed: Option<u64>,
}

impl<'a> LoginAttempt<'a> {
    pub fn begin(limits: &'a Limits, account: &str, source: &str, known_device: bool) -> Result<LoginAttempt<'a>, u64> {
        let keys = [
            format!("{account}\u{1f}{source}"),
            account.to_string(),
            source.to_string(),
        ];
        let clean_source = limits.login_per_source.is_full(&keys[0]) && limits.login_per_ip.is_full(&keys[2]);
        limits.login_per_source.take(&keys[0])?;
        if let Err(wait) = limits.login_per_ip.take(&keys[2]) {
            limits.login_per_source.refund(&keys[0]);
            return Err(wait);
        }
        let mut attempt = LoginAttempt {
            limits,
            keys,
            took_account: true,
            must_succeed: None,
        };
        if let Err(wait) = limits.login_per_account.take(&attempt.keys[1]) {
            attempt.took_account = false;
            let let_through =
                known_device || (clean_source && limits.login_past_spent_account.take(&attempt.keys[1]).is_ok());
            if !let_through {
                limits.login_per_source.refund(&attempt.keys[0]);
                limits.login_per_ip.refund(&attempt.keys[2]);
                return Err(wait);
            }
            attempt.must_succeed = Some(wait);
        }
        Ok(attempt)
    }

    pub fn succeeded(self) {
        self.limits.login_per_source.refund(&self.keys[0]);
        self.limits.login_per_ip.refund(&self.keys[2]);
        if self.took_account {
            self.limits.login_per_account.refund(&self.keys[1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusal_with_a_wait() {
        let b = Buckets::per_minute(3);
        assert!(b.take("k").is_ok());
        assert!(b.take("k").is_ok());
        assert!(b.take("k").is_ok());
        let wait = b.take("k").unwrap_err();
        assert!((1..=20).contains(&wait), "wait was {wait}");
        assert!(b.take("other").is_ok(), "keys are independent");
        b.refund("k");
        assert!(b.take("k").is_ok());
    }
}
