//! The two upstream systems as the use cases see them, and the one place their clients are built.
//!
//! - [`Zammad`] and [`Kimai`]: the ports, holding exactly what fetch, reconcile, auto-create and
//!   the writer call. The HTTP clients implement them here (the client crates know nothing of the
//!   service), and their typed errors stay in the signatures, so what is retryable and what is a
//!   refusal reads the same as on the clients.
//! - [`zammad_client`], [`kimai_client`]: build a client from the connection settings, a token
//!   and [`Timeouts`]. [`crate::connections::Connections`] (the functions, cached, reading the
//!   token secrets), fetch and the console's connection test and pickers all build through them.
//! - [`CallRates`]: the calls per second each upstream may receive from all instances
//!   together, paced through the control store ([`StorePacer`]). Unattended clients (the
//!   functions, fetch) are paced; the console's single interactive calls are not.

mod build;
mod kimai;
mod pace;
mod zammad;

pub use build::{Timeouts, kimai_client, zammad_client};
pub use kimai::Kimai;
pub use pace::{CallRates, StorePacer};
pub use zammad::Zammad;
