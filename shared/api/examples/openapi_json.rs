//! Prints the console API's OpenAPI document (the same one `/api/openapi.json` serves), so the
//! web console can generate its typed client without starting a server:
//! `cargo run -q -p console-api --example openapi_json > frontend/src/api/openapi.json`.

fn main() -> Result<(), serde_json::Error> {
    let document = console_api::openapi::document_json();
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(())
}
