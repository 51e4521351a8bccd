//! The API token, kept out of every log line, `Debug` output and error message.

use std::fmt;

/// A Zammad personal access token.
///
/// There is deliberately no `Display` and the `Debug` output is redacted, so the token cannot leak
/// through `{:?}` in a log line or an error chain. Only the client reads it, to build the header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    pub fn new(token: impl Into<String>) -> Self {
        ApiToken(token.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

impl From<String> for ApiToken {
    fn from(token: String) -> Self {
        ApiToken(token)
    }
}

impl From<&str> for ApiToken {
    fn from(token: &str) -> Self {
        ApiToken(token.to_owned())
    }
}
