//! How customers, projects and activities are rendered: the list view (`GET /api/customers`
//! and friends, and inside expanded timesheets) and the entity view (read by id, and the answer
//! of a create or update). Field lists follow Kimai's test structures
//! (`tests/API/APIControllerBaseTestCase.php`: `CustomerCollection`, `CustomerEntity`, …).

use crate::dataset::{ActivityRecord, CustomerRecord, ProjectRecord};
use crate::state::{State, overlay};
use serde_json::{Value, json};

/// Which view of a record to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct View {
    /// The entity view: the list keys plus the details a list leaves out.
    pub entity: bool,
    /// `budget`, `timeBudget` and `budgetType`: Kimai shows them only to callers with the
    /// entity's budget permission (`BudgetExclusionStrategy`).
    pub budget: bool,
}

impl View {
    pub const LIST: View = View {
        entity: false,
        budget: false,
    };
}

fn add_budget(v: &mut Value, view: View) {
    if view.budget {
        v["budget"] = json!(0.0);
        v["timeBudget"] = json!(0);
        v["budgetType"] = Value::Null;
    }
}

impl State {
    pub fn customer_json(&self, c: &CustomerRecord, view: View) -> Value {
        let mut v = json!({
            "id": c.id, "name": c.name, "number": c.number, "comment": c.comment,
            "visible": c.visible, "billable": true, "company": Value::Null, "country": "DE",
            "currency": "EUR", "language": "en", "phone": Value::Null, "fax": Value::Null,
            "mobile": Value::Null, "homepage": Value::Null, "timezone": "Europe/Berlin",
            "metaFields": [], "teams": [], "color": Value::Null,
        });
        if view.entity {
            for key in [
                "contact",
                "email",
                "vatId",
                "address",
                "addressLine1",
                "addressLine2",
                "addressLine3",
                "city",
                "postCode",
                "invoiceEmail",
                "buyerReference",
            ] {
                v[key] = Value::Null;
            }
        }
        add_budget(&mut v, view);
        if let Some(extra) = self.customer_extra.get(&c.id) {
            overlay(&mut v, extra);
        }
        v
    }

    pub fn project_json(&self, p: &ProjectRecord, view: View) -> Value {
        let customer = self.customers.get(&p.customer);
        let mut v = json!({
            "parentTitle": customer.map(|c| c.name.clone()),
            "customer": p.customer, "id": p.id, "name": p.name, "orderNumber": Value::Null,
            "start": Value::Null, "end": Value::Null, "comment": Value::Null,
            "visible": p.visible, "billable": true, "metaFields": [], "teams": [],
            "globalActivities": p.global_activities, "number": p.number, "color": Value::Null,
            "lockedUntil": p.locked_until.map(|d| d.format("%Y-%m-%d").to_string()),
        });
        if view.entity {
            v["orderDate"] = Value::Null;
        }
        add_budget(&mut v, view);
        if let Some(extra) = self.project_extra.get(&p.id) {
            overlay(&mut v, extra);
        }
        v
    }

    pub fn activity_json(&self, a: &ActivityRecord, view: View) -> Value {
        let parent = a
            .project
            .and_then(|p| self.projects.get(&p))
            .map(|p| p.name.clone());
        let mut v = json!({
            "parentTitle": parent, "project": a.project, "id": a.id, "name": a.name,
            "comment": Value::Null, "visible": a.visible, "billable": true, "metaFields": [],
            "teams": [], "number": Value::Null, "color": Value::Null,
        });
        add_budget(&mut v, view);
        if let Some(extra) = self.activity_extra.get(&a.id) {
            overlay(&mut v, extra);
        }
        v
    }
}
