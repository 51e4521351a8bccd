//! Fault injection per route, deterministic for a given seed and request order.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Faults for the Zammad API routes. Rules are tried in order; the first one whose `route`
/// matches (and whose `times` is not used up) applies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// Seed of the random draws: the same seed and the same request order give the same faults.
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// `"GET /api/v1/tickets/{id}"` (method and route pattern as listed in `/__admin/counters`),
    /// a bare pattern `"/api/v1/tickets/{id}"` for any method, or `"*"` for every API route.
    pub route: String,
    /// Added before every matching request is answered.
    #[serde(default)]
    pub latency_ms: u64,
    /// Share of requests answered with one of `error_statuses` (500 carries Zammad's JSON error
    /// body, 502/503 a proxy's HTML page).
    #[serde(default)]
    pub error_rate: f64,
    #[serde(default = "default_error_statuses")]
    pub error_statuses: Vec<u16>,
    /// Share of requests answered 429 with `Retry-After: retry_after_secs`.
    #[serde(default)]
    pub rate_limit_rate: f64,
    #[serde(default = "one")]
    pub retry_after_secs: u64,
    /// Share of requests held for `hold_ms` (past the client's timeout), then answered 504.
    #[serde(default)]
    pub timeout_rate: f64,
    #[serde(default = "default_hold_ms")]
    pub hold_ms: u64,
    /// Share of requests answered 200 with a truncated JSON body.
    #[serde(default)]
    pub malformed_rate: f64,
    /// Apply only to the next N matching requests, then the rule is spent. `None`: forever.
    #[serde(default)]
    pub times: Option<u32>,
}

fn default_error_statuses() -> Vec<u16> {
    vec![500, 502, 503]
}

fn one() -> u64 {
    1
}

fn default_hold_ms() -> u64 {
    60_000
}

/// What to do with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    None,
    Status(u16),
    RateLimited { retry_after_secs: u64 },
    Hold(Duration),
    Malformed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub latency: Duration,
    pub fault: Fault,
}

/// The live fault state: configuration, its random generator, and the rules' remaining uses.
#[derive(Debug)]
pub struct Faults {
    config: FaultConfig,
    rng: StdRng,
}

impl Default for Faults {
    fn default() -> Self {
        Faults::new(FaultConfig::default())
    }
}

impl Faults {
    pub fn new(config: FaultConfig) -> Faults {
        let rng = StdRng::seed_from_u64(config.seed);
        Faults { config, rng }
    }

    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    pub fn decide(&mut self, method: &str, route: &str) -> Decision {
        let Some(rule) = self
            .config
            .rules
            .iter_mut()
            .find(|r| r.times != Some(0) && route_matches(&r.route, method, route))
        else {
            return Decision {
                latency: Duration::ZERO,
                fault: Fault::None,
            };
        };
        if let Some(times) = rule.times.as_mut() {
            *times -= 1;
        }
        // One draw per request, split into consecutive bands: [timeout | error | 429 | malformed].
        #[derive(Clone, Copy)]
        enum Band {
            Hold,
            Error,
            RateLimit,
            Malformed,
        }
        let bands = [
            (rule.timeout_rate, Band::Hold),
            (rule.error_rate, Band::Error),
            (rule.rate_limit_rate, Band::RateLimit),
            (rule.malformed_rate, Band::Malformed),
        ];
        let draw: f64 = self.rng.random();
        let mut upper = 0.0;
        let band = bands.iter().find_map(|(rate, band)| {
            upper += rate;
            (draw < upper).then_some(*band)
        });
        let fault = match band {
            None => Fault::None,
            Some(Band::Hold) => Fault::Hold(Duration::from_millis(rule.hold_ms)),
            Some(Band::Error) => {
                let statuses = if rule.error_statuses.is_empty() {
                    default_error_statuses()
                } else {
                    rule.error_statuses.clone()
                };
                Fault::Status(statuses[self.rng.random_range(0..statuses.len())])
            }
            Some(Band::RateLimit) => Fault::RateLimited {
                retry_after_secs: rule.retry_after_secs,
            },
            Some(Band::Malformed) => Fault::Malformed,
        };
        Decision {
            latency: Duration::from_millis(rule.latency_ms),
            fault,
        }
    }
}

fn route_matches(pattern: &str, method: &str, route: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.split_once(' ') {
        Some((m, p)) => m.eq_ignore_ascii_case(method) && p == route,
        None => pattern == route,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(route: &str) -> FaultRule {
        FaultRule {
            route: route.to_owned(),
            latency_ms: 0,
            error_rate: 0.0,
            error_statuses: default_error_statuses(),
            rate_limit_rate: 0.0,
            retry_after_secs: 1,
            timeout_rate: 0.0,
            hold_ms: 10,
            malformed_rate: 0.0,
            times: None,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let config = FaultConfig {
            seed: 42,
            rules: vec![FaultRule {
                error_rate: 0.5,
                ..rule("*")
            }],
        };
        let run = |c: FaultConfig| {
            let mut f = Faults::new(c);
            (0..50)
                .map(|_| f.decide("GET", "/api/v1/version").fault)
                .collect::<Vec<_>>()
        };
        let first = run(config.clone());
        assert_eq!(first, run(config.clone()));
        let failures = first.iter().filter(|f| **f != Fault::None).count();
        assert!(
            (10..40).contains(&failures),
            "about half should fail, got {failures}"
        );
        let other = run(FaultConfig { seed: 7, ..config });
        assert_ne!(first, other);
    }

    #[test]
    fn times_limits_a_rule_and_routes_match_by_method_and_pattern() {
        let mut f = Faults::new(FaultConfig {
            seed: 1,
            rules: vec![FaultRule {
                rate_limit_rate: 1.0,
                retry_after_secs: 3,
                times: Some(2),
                ..rule("GET /api/v1/tickets/{id}")
            }],
        });
        assert_eq!(f.decide("GET", "/api/v1/version").fault, Fault::None);
        assert_eq!(
            f.decide("GET", "/api/v1/tickets/{id}").fault,
            Fault::RateLimited {
                retry_after_secs: 3
            }
        );
        assert_eq!(
            f.decide("GET", "/api/v1/tickets/{id}").fault,
            Fault::RateLimited {
                retry_after_secs: 3
            }
        );
        assert_eq!(f.decide("GET", "/api/v1/tickets/{id}").fault, Fault::None);
    }
}
