//! The Kimai API token. It is a bearer secret: it must never reach a log line, a `Debug` dump or
//! an error message, so the type only shows it to the request builder.

use std::fmt;

/// A Kimai API token (`Authorization: Bearer …`, Kimai ≥ 2.14).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    pub fn new(token: impl Into<String>) -> Self {
        ApiToken(token.into())
    }

    /// The header value. Only the client's request builder calls this.
    pub(crate) fn bearer_header(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

impl fmt::Display for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_secret() {
        let t = ApiToken::new("s3cr3t-token-value");
        assert_eq!(format!("{t:?}"), "ApiToken(<redacted>)");
        assert_eq!(t.to_string(), "<redacted>");
        assert_eq!(t.bearer_header(), "Bearer s3cr3t-token-value");
    }
}
