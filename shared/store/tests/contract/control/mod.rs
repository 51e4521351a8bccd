//! The control store's contract, by concern.

mod coordination;
mod dead_letters;
mod documents;
mod runs;
mod users;

pub use coordination::*;
pub use dead_letters::*;
pub use documents::*;
pub use runs::*;
pub use users::*;
