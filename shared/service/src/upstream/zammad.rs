//! The Zammad port: what fetch reads to find changed tickets and what reconcile reads of one
//! ticket. Implemented by [`ZammadClient`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sync_core::ids::{OrganisationId, TicketId, ZammadUserId};
use sync_core::zammad::{AccountingType, Organisation, Ticket, TimeAccounting, ZammadUser};
use zammad_client::{INDEX_PAGE_SIZE, ZammadClient, ZammadError};

/// `Debug` so results holding a client can be inspected in tests and logs (the clients redact
/// their tokens).
#[async_trait]
pub trait Zammad: Send + Sync + std::fmt::Debug {
    /// Which Zammad this is (reconcile's caches belong to one instance).
    fn base_url(&self) -> &str;

    /// Every time accounting changed at or after `since`, from the global listing (needs an
    /// admin token: a permission error says to use ticket search instead).
    async fn time_accountings_updated_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<TimeAccounting>, ZammadError>;

    /// The tickets updated at or after `since` (ticket search; an agent token is enough).
    async fn tickets_updated_since(&self, since: DateTime<Utc>)
    -> Result<Vec<Ticket>, ZammadError>;

    async fn ticket(&self, id: TicketId) -> Result<Ticket, ZammadError>;

    /// All time accountings of one ticket.
    async fn ticket_time_accountings(
        &self,
        id: TicketId,
    ) -> Result<Vec<TimeAccounting>, ZammadError>;

    /// The accounting types (needs an admin token).
    async fn accounting_types(&self) -> Result<Vec<AccountingType>, ZammadError>;

    async fn user(&self, id: ZammadUserId) -> Result<ZammadUser, ZammadError>;

    async fn organisation(&self, id: OrganisationId) -> Result<Organisation, ZammadError>;

    /// The token's own user: whether the token is still good (the daily connection check).
    async fn me(&self) -> Result<ZammadUser, ZammadError>;
}

#[async_trait]
impl Zammad for ZammadClient {
    fn base_url(&self) -> &str {
        self.api_root()
    }

    async fn time_accountings_updated_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<TimeAccounting>, ZammadError> {
        ZammadClient::time_accountings_updated_since(self, Some(since), INDEX_PAGE_SIZE).await
    }

    async fn tickets_updated_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<Ticket>, ZammadError> {
        ZammadClient::tickets_updated_since(self, since).await
    }

    async fn ticket(&self, id: TicketId) -> Result<Ticket, ZammadError> {
        ZammadClient::ticket(self, id).await
    }

    async fn ticket_time_accountings(
        &self,
        id: TicketId,
    ) -> Result<Vec<TimeAccounting>, ZammadError> {
        ZammadClient::ticket_time_accountings(self, id).await
    }

    async fn accounting_types(&self) -> Result<Vec<AccountingType>, ZammadError> {
        ZammadClient::accounting_types(self).await
    }

    async fn user(&self, id: ZammadUserId) -> Result<ZammadUser, ZammadError> {
        ZammadClient::user(self, id).await
    }

    async fn organisation(&self, id: OrganisationId) -> Result<Organisation, ZammadError> {
        ZammadClient::organisation(self, id).await
    }

    async fn me(&self) -> Result<ZammadUser, ZammadError> {
        ZammadClient::connection_test(self).await
    }
}
