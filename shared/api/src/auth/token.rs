//! Login tokens: HS256 JWTs signed with the console key from Secrets Manager, valid 8 hours.
//! Expiry is checked against the injected clock (not the system time), so tests can move time.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sync_store::control::Role;

pub const TOKEN_LIFETIME_HOURS: i64 = 8;
/// A shorter signing key would make HS256 guessable.
pub const MIN_KEY_LEN: usize = 32;
const ISSUER: &str = "zammad-kimai-sync-console";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is expired")]
    Expired,
    #[error("the token is not valid")]
    Invalid,
}

pub fn issue(
    key: &[u8],
    username: &str,
    role: Role,
    now: DateTime<Utc>,
) -> (String, DateTime<Utc>) {
    let expires = now + Duration::hours(TOKEN_LIFETIME_HOURS);
    let claims = Claims {
        sub: username.to_owned(),
        role,
        iat: now.timestamp(),
        exp: expires.timestamp(),
        iss: ISSUER.to_owned(),
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key),
    )
    .expect("HS256 signing of plain claims cannot fail");
    (token, expires)
}

pub fn verify(key: &[u8], token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry is ours to check (with the injected clock); the signature, algorithm and issuer are
    // the library's.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[ISSUER]);
    let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(key), &validation)
        .map_err(|_| TokenError::Invalid)?;
    if now.timestamp() >= data.claims.exp {
        return Err(TokenError::Expired);
    }
    Ok(data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn tokens_verify_until_they_expire() {
        let now = Utc::now();
        let (token, expires) = issue(KEY, "ada", Role::Admin, now);
        assert_eq!(expires - now, Duration::hours(8));
        let claims = verify(KEY, &token, now + Duration::hours(7)).unwrap();
        assert_eq!((claims.sub.as_str(), claims.role), ("ada", Role::Admin));
        assert_eq!(verify(KEY, &token, expires), Err(TokenError::Expired));
    }

    #[test]
    fn other_keys_and_tampering_are_refused() {
        let now = Utc::now();
        let (token, _) = issue(KEY, "ada", Role::Viewer, now);
        assert_eq!(
            verify(b"another key of thirty-two bytes!", &token, now),
            Err(TokenError::Invalid)
        );
        let mut parts: Vec<&str> = token.split('.').collect();
        let (forged, _) = issue(b"another key of thirty-two bytes!", "ada", Role::Admin, now);
        let forged_payload = forged.split('.').nth(1).unwrap().to_owned();
        parts[1] = &forged_payload;
        assert_eq!(verify(KEY, &parts.join("."), now), Err(TokenError::Invalid));
        assert_eq!(verify(KEY, "garbage", now), Err(TokenError::Invalid));
    }
}
