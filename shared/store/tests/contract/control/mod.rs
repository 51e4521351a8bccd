//! The control store's contract, by concern.

mod coordination;
mod documents;
mod runs;
mod users;

pub use coordination::*;
pub use documents::*;
pub use runs::*;
pub use users::*;
