//! Inputs the fuzz targets found, kept so the bug stays fixed (each also has a test where the
//! fix is).

use zammad_client::wire::ErrorBody;

/// zammad-answers, 2026-12-07: `{"error_human":""}` gave an empty error message, so a refused
/// call read "Zammad refused /api/v1/… (403: )", with nothing to act on.
#[test]
fn an_empty_zammad_error_message_falls_back_to_the_body() {
    for body in [
        br#"{"error_human":""}"#.as_slice(),
        br#"{"error":" ","error_human":""}"#,
        br#"{"error":"","error_human":null}"#,
    ] {
        let message = ErrorBody::message_from(body);
        assert!(!message.trim().is_empty(), "{body:?}: {message:?}");
    }
}
