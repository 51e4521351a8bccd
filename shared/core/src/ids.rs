//! Typed identifiers. A Zammad user id and a Kimai user id are both integers on the wire; keeping
//! them apart in the type system stops the classic "booked to the wrong person" bug at compile time.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// Zammad ticket id (not the human-facing ticket number).
    TicketId
);
id_type!(
    /// Zammad time accounting id.
    AccountingId
);
id_type!(
    /// Zammad user id (the agent who booked the time is `created_by_id`).
    ZammadUserId
);
id_type!(
    /// Zammad time accounting type id (the "activity type").
    AccountingTypeId
);
id_type!(
    /// Zammad organisation id.
    OrganisationId
);
id_type!(
    /// Zammad group id.
    GroupId
);
id_type!(
    /// Kimai timesheet id.
    TimesheetId
);
id_type!(
    /// Kimai user id.
    KimaiUserId
);
id_type!(
    /// Kimai customer id.
    CustomerId
);
id_type!(
    /// Kimai project id.
    ProjectId
);
id_type!(
    /// Kimai activity id.
    ActivityId
);
