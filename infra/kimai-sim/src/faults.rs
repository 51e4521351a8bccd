//! Fault injection per route ("METHOD /path/template"), deterministic for a given seed.
//!
//! Rules of a route are tried in order; a rule fires with its `probability` (drawn from the
//! simulator's seeded RNG) while its `times` budget lasts. At most one rule fires per request.

use crate::respond::status_error;
use crate::state::Shared;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteFaults {
    /// Added to every request of the route.
    pub latency_ms: u64,
    pub rules: Vec<FaultRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Chance per request, 0.0..=1.0.
    #[serde(default = "always")]
    pub probability: f64,
    /// How many times the rule may still fire; `None` = unlimited.
    #[serde(default)]
    pub times: Option<u32>,
    /// Requests to let through before the rule may fire ("fail the third call").
    #[serde(default)]
    pub skip: u32,
}

fn always() -> f64 {
    1.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer one of these statuses (picked by the RNG) without touching state.
    Error {
        #[serde(default = "server_errors")]
        statuses: Vec<u16>,
    },
    /// 429 with `Retry-After`.
    RateLimit {
        #[serde(default = "one")]
        retry_after_secs: u64,
    },
    /// Hold the request this long before handling it (clients time out first).
    Timeout {
        #[serde(default = "a_minute")]
        hang_ms: u64,
    },
    /// Handle the request (commit its change), then answer 500.
    // Named explicitly: snake_case of the variant would read `commit_then500`.
    #[serde(rename = "commit_then_500")]
    CommitThen500,
    /// Handle the request, then answer 200 with a truncated JSON body.
    MalformedJson,
    /// Handle the request; an invalid form's 400 is answered as 200, the form-error envelope
    /// kept. Kimai's timesheet PATCH controller renders an invalid form with status 200
    /// (docs/kimai.md), and has been seen answering so.
    InvalidFormOk,
}

fn server_errors() -> Vec<u16> {
    vec![500, 502, 503]
}
fn one() -> u64 {
    1
}
fn a_minute() -> u64 {
    60_000
}

/// What to do with one request, decided under the state lock.
enum Decision {
    Pass,
    Status(u16),
    RateLimit(u64),
    Hang(u64),
    CommitThen500,
    Malformed,
    InvalidFormOk,
}

fn decide(faults: &mut RouteFaults, rng: &mut StdRng) -> Decision {
    for rule in &mut faults.rules {
        if rule.times == Some(0) {
            continue;
        }
        if rule.skip > 0 {
            rule.skip -= 1;
            continue;
        }
        if rng.random::<f64>() >= rule.probability {
            continue;
        }
        if let Some(n) = rule.times.as_mut() {
            *n -= 1;
        }
        return match &rule.kind {
            FaultKind::Error { statuses } if statuses.is_empty() => Decision::Status(500),
            FaultKind::Error { statuses } => {
                Decision::Status(statuses[rng.random_range(0..statuses.len())])
            }
            FaultKind::RateLimit { retry_after_secs } => Decision::RateLimit(*retry_after_secs),
            FaultKind::Timeout { hang_ms } => Decision::Hang(*hang_ms),
            FaultKind::CommitThen500 => Decision::CommitThen500,
            FaultKind::MalformedJson => Decision::Malformed,
            FaultKind::InvalidFormOk => Decision::InvalidFormOk,
        };
    }
    Decision::Pass
}

/// One API request in flight; leaving it (answered, or dropped because the client went away)
/// takes it off the count.
struct InFlight(Shared);

impl InFlight {
    /// Call with the state locked by the caller.
    fn enter(sim: &Shared, st: &mut crate::state::State) -> InFlight {
        st.in_flight += 1;
        st.max_in_flight = st.max_in_flight.max(st.in_flight);
        InFlight(sim.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        // A reset while requests run keeps the count (see `SimAdmin::reset`); saturate anyway
        // so a miscount can never wrap into a huge number.
        st.in_flight = st.in_flight.saturating_sub(1);
    }
}

/// Middleware on the API routes: counts calls per route and requests in flight, and applies
/// that route's faults.
pub async fn inject(State(sim): State<Shared>, req: Request, next: Next) -> Response {
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "(no route)".to_owned());
    let route = format!("{} {}", req.method(), template);
    let (_in_flight, latency, decision) = {
        let mut st = sim.lock();
        *st.calls.entry(route.clone()).or_default() += 1;
        let st = &mut *st;
        let in_flight = InFlight::enter(&sim, st);
        match st.faults.get_mut(&route) {
            Some(f) => (in_flight, f.latency_ms, decide(f, &mut st.rng)),
            None => (in_flight, 0, Decision::Pass),
        }
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match decision {
        Decision::Pass => next.run(req).await,
        Decision::Status(s) => {
            status_error(StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        }
        Decision::RateLimit(secs) => {
            let mut r = status_error(StatusCode::TOO_MANY_REQUESTS);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            r
        }
        Decision::Hang(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Decision::CommitThen500 => {
            let _committed = next.run(req).await;
            status_error(StatusCode::INTERNAL_SERVER_ERROR)
        }
        Decision::InvalidFormOk => {
            let mut answer = next.run(req).await;
            if answer.status() == StatusCode::BAD_REQUEST {
                *answer.status_mut() = StatusCode::OK;
            }
            answer
        }
        Decision::Malformed => {
            let _ = next.run(req).await;
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                Body::from(r#"{"id":1,"begin":"2026-"#),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rules_fire_in_order_within_their_budget() {
        let mut f: RouteFaults = serde_json::from_str(
            r#"{"rules":[{"kind":"rate_limit","retry_after_secs":2,"times":1},
                         {"kind":"error","statuses":[503],"times":2}]}"#,
        )
        .unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        assert!(matches!(decide(&mut f, &mut rng), Decision::RateLimit(2)));
        assert!(matches!(decide(&mut f, &mut rng), Decision::Status(503)));
        assert!(matches!(decide(&mut f, &mut rng), Decision::Status(503)));
        assert!(matches!(decide(&mut f, &mut rng), Decision::Pass));
    }

    #[test]
    fn commit_then_500_is_spelled_as_documented() {
        let f: RouteFaults =
            serde_json::from_str(r#"{"rules":[{"kind":"commit_then_500"}]}"#).unwrap();
        assert_eq!(f.rules[0].kind, FaultKind::CommitThen500);
    }

    #[test]
    fn skip_lets_the_first_requests_through() {
        let mut f: RouteFaults = serde_json::from_str(
            r#"{"rules":[{"kind":"error","statuses":[404],"skip":2,"times":1}]}"#,
        )
        .unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        assert!(matches!(decide(&mut f, &mut rng), Decision::Pass));
        assert!(matches!(decide(&mut f, &mut rng), Decision::Pass));
        assert!(matches!(decide(&mut f, &mut rng), Decision::Status(404)));
        assert!(matches!(decide(&mut f, &mut rng), Decision::Pass));
    }

    #[test]
    fn probabilities_are_deterministic_per_seed() {
        let rules = r#"{"rules":[{"kind":"error","probability":0.3}]}"#;
        let run = |seed| {
            let mut f: RouteFaults = serde_json::from_str(rules).unwrap();
            let mut rng = StdRng::seed_from_u64(seed);
            (0..200)
                .map(|_| match decide(&mut f, &mut rng) {
                    Decision::Status(s) => s,
                    _ => 0,
                })
                .collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        let failures = a.iter().filter(|s| **s != 0).count();
        assert!((30..90).contains(&failures), "{failures}");
        assert!(a.iter().all(|s| [0, 500, 502, 503].contains(s)));
    }
}
