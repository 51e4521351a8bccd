//! The Kimai port: what reconcile reads (the API user, the catalog, timesheets), what
//! auto-create looks up and creates, and what the writer writes. Implemented by [`KimaiClient`].
//!
//! Catalog records are the core's types ([`sync_core::catalog`]); write bodies and the retry
//! choice of idempotent writes are the client's request types.

use async_trait::async_trait;
use kimai_client::{
    CurrentUser, KimaiClient, KimaiError, NewCustomer, NewProject, NewTimesheet, Retries, Tag,
    TimesheetPatch, TimesheetQuery,
};
use sync_core::catalog::{KimaiActivity, KimaiCustomer, KimaiProject, KimaiUser};
use sync_core::ids::{CustomerId, TimesheetId};
use sync_core::kimai::Timesheet;

/// `Debug` as [`super::Zammad`].
#[async_trait]
pub trait Kimai: Send + Sync + std::fmt::Debug {
    /// Which Kimai this is (the writer's caches belong to one instance).
    fn base_url(&self) -> &str;

    /// The API user: its id, and the zone Kimai reads a POST's `begin`/`end` in.
    async fn me(&self) -> Result<CurrentUser, KimaiError>;

    /// The whole catalog, hidden records included.
    async fn customers(&self) -> Result<Vec<KimaiCustomer>, KimaiError>;
    /// All projects, or those of one customer.
    async fn projects(&self, customer: Option<CustomerId>)
    -> Result<Vec<KimaiProject>, KimaiError>;
    async fn activities(&self) -> Result<Vec<KimaiActivity>, KimaiError>;
    async fn users(&self) -> Result<Vec<KimaiUser>, KimaiError>;

    /// Exact-number lookups, hidden records included (auto-create looks before it creates).
    async fn customers_by_number(&self, number: &str) -> Result<Vec<KimaiCustomer>, KimaiError>;
    async fn projects_by_number(
        &self,
        customer: CustomerId,
        number: &str,
    ) -> Result<Vec<KimaiProject>, KimaiError>;

    /// Never retried: after a timeout the record may exist (look it up before trying again).
    async fn create_customer(&self, new: &NewCustomer) -> Result<KimaiCustomer, KimaiError>;
    async fn create_project(&self, new: &NewProject) -> Result<KimaiProject, KimaiError>;

    /// Every timesheet matching `query`, all pages.
    async fn list_timesheets(&self, query: &TimesheetQuery) -> Result<Vec<Timesheet>, KimaiError>;
    async fn timesheet(&self, id: TimesheetId) -> Result<Timesheet, KimaiError>;
    /// Never retried, as the creates above.
    async fn create_timesheet(&self, new: &NewTimesheet) -> Result<Timesheet, KimaiError>;
    async fn update_timesheet(
        &self,
        id: TimesheetId,
        patch: &TimesheetPatch,
        retries: Retries,
    ) -> Result<Timesheet, KimaiError>;
    async fn delete_timesheet(&self, id: TimesheetId, retries: Retries) -> Result<(), KimaiError>;

    /// The tag named `name`, created first if Kimai does not know it.
    async fn ensure_tag(&self, name: &str) -> Result<Tag, KimaiError>;
}

#[async_trait]
impl Kimai for KimaiClient {
    fn base_url(&self) -> &str {
        self.config().base_url.as_str()
    }

    async fn me(&self) -> Result<CurrentUser, KimaiError> {
        KimaiClient::me(self).await
    }

    async fn customers(&self) -> Result<Vec<KimaiCustomer>, KimaiError> {
        KimaiClient::customers(self, None).await
    }

    async fn projects(
        &self,
        customer: Option<CustomerId>,
    ) -> Result<Vec<KimaiProject>, KimaiError> {
        KimaiClient::projects(self, customer, None).await
    }

    async fn activities(&self) -> Result<Vec<KimaiActivity>, KimaiError> {
        KimaiClient::activities(self, None, None).await
    }

    async fn users(&self) -> Result<Vec<KimaiUser>, KimaiError> {
        KimaiClient::users(self, None).await
    }

    async fn customers_by_number(&self, number: &str) -> Result<Vec<KimaiCustomer>, KimaiError> {
        KimaiClient::customers_by_number(self, number).await
    }

    async fn projects_by_number(
        &self,
        customer: CustomerId,
        number: &str,
    ) -> Result<Vec<KimaiProject>, KimaiError> {
        KimaiClient::projects_by_number(self, customer, number).await
    }

    async fn create_customer(&self, new: &NewCustomer) -> Result<KimaiCustomer, KimaiError> {
        KimaiClient::create_customer(self, new).await
    }

    async fn create_project(&self, new: &NewProject) -> Result<KimaiProject, KimaiError> {
        KimaiClient::create_project(self, new).await
    }

    async fn list_timesheets(&self, query: &TimesheetQuery) -> Result<Vec<Timesheet>, KimaiError> {
        KimaiClient::list_timesheets(self, query).await
    }

    async fn timesheet(&self, id: TimesheetId) -> Result<Timesheet, KimaiError> {
        KimaiClient::timesheet(self, id).await
    }

    async fn create_timesheet(&self, new: &NewTimesheet) -> Result<Timesheet, KimaiError> {
        KimaiClient::create_timesheet(self, new).await
    }

    async fn update_timesheet(
        &self,
        id: TimesheetId,
        patch: &TimesheetPatch,
        retries: Retries,
    ) -> Result<Timesheet, KimaiError> {
        KimaiClient::update_timesheet(self, id, patch, retries).await
    }

    async fn delete_timesheet(&self, id: TimesheetId, retries: Retries) -> Result<(), KimaiError> {
        KimaiClient::delete_timesheet(self, id, retries).await
    }

    async fn ensure_tag(&self, name: &str) -> Result<Tag, KimaiError> {
        KimaiClient::ensure_tag(self, name).await
    }
}
