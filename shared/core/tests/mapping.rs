//! Mapping resolution: each precedence rule and each missing-mapping reason.

use chrono::{TimeZone, Utc};
use std::collections::HashMap;
use sync_core::catalog::{Catalog, KimaiActivity, KimaiCustomer, KimaiProject, KimaiUser};
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::*;
use sync_core::mapping::*;
use sync_core::needed_action::NeededAction;
use sync_core::normalise::TimedEntry;
use sync_core::plan::ConflictReason;
use sync_core::zammad::{Organisation, Ticket, ZammadUser};

const API_USER: KimaiUserId = KimaiUserId(1);
const ANNA: ZammadUserId = ZammadUserId(3);

fn ticket(org: Option<u64>) -> Ticket {
    Ticket {
        id: TicketId(42),
        number: "31001".into(),
        title: "Printer jam".into(),
        group_id: Some(GroupId(2)),
        organization_id: org.map(OrganisationId),
        customer_id: None,
        updated_at: Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap(),
    }
}

fn agents() -> HashMap<ZammadUserId, ZammadUser> {
    let anna = ZammadUser {
        id: ANNA,
        login: Some("anna".into()),
        email: Some("Anna@Example.com".into()),
        firstname: Some("Anna".into()),
        lastname: Some("Agent".into()),
        organization_id: None,
    };
    HashMap::from([(ANNA, anna)])
}

fn catalog() -> Catalog {
    Catalog::new(
        &[
            KimaiCustomer {
                id: CustomerId(10),
                name: "ACME".into(),
                number: Some("OID-5".into()),
                visible: true,
            },
            KimaiCustomer {
                id: CustomerId(11),
                name: "Globex".into(),
                number: None,
                visible: true,
            },
            KimaiCustomer {
                id: CustomerId(12),
                name: "Fallback".into(),
                number: None,
                visible: true,
            },
        ],
        &[
            KimaiProject {
                id: ProjectId(20),
                name: "Support".into(),
                customer: CustomerId(10),
                number: None,
                visible: true,
                global_activities: true,
                locked_until: None,
            },
            KimaiProject {
                id: ProjectId(21),
                name: "Support".into(),
                customer: CustomerId(11),
                number: None,
                visible: true,
                global_activities: true,
                locked_until: None,
            },
            KimaiProject {
                id: ProjectId(22),
                name: "Support".into(),
                customer: CustomerId(12),
                number: None,
                visible: true,
                global_activities: true,
                locked_until: None,
            },
            KimaiProject {
                id: ProjectId(23),
                name: "Old name".into(),
                customer: CustomerId(10),
                number: Some("TID-42".into()),
                visible: true,
                global_activities: true,
                locked_until: None,
            },
            KimaiProject {
                id: ProjectId(24),
                name: "Group project".into(),
                customer: CustomerId(11),
                number: None,
                visible: true,
                global_activities: true,
                locked_until: None,
            },
        ],
        &[
            KimaiActivity {
                id: ActivityId(30),
                name: "Support".into(),
                project: None,
                visible: true,
            },
            KimaiActivity {
                id: ActivityId(31),
                name: "Onsite".into(),
                project: None,
                visible: true,
            },
            KimaiActivity {
                id: ActivityId(32),
                name: "Special".into(),
                project: Some(ProjectId(24)),
                visible: true,
            },
        ],
        &[
            KimaiUser {
                id: API_USER,
                username: "api".into(),
                email: None,
                timezone: Some("Europe/Berlin".into()),
                alias: None,
                enabled: true,
            },
            KimaiUser {
                id: KimaiUserId(5),
                username: "anna".into(),
                email: Some("anna@example.com".into()),
                timezone: Some("America/New_York".into()),
                alias: None,
                enabled: true,
            },
        ],
    )
}

fn mappings() -> Mappings {
    let mut m = Mappings::new(API_USER);
    m.can_book_for_others = true;
    m.default_activity = Some(ActivityId(30));
    m.activity_by_type
        .insert(AccountingTypeId(7), ActivityId(31));
    m
}

fn entry(type_id: Option<u64>) -> TimedEntry {
    let zone = chrono_tz::America::New_York;
    let begin = Utc.with_ymd_and_hms(2026, 5, 4, 13, 0, 0).unwrap();
    TimedEntry {
        key: EntryKey("ta:99".into()),
        ticket_id: TicketId(42),
        agent_id: ANNA,
        type_id: type_id.map(AccountingTypeId),
        accounting_ids: vec![AccountingId(99)],
        zone,
        anchor_day: begin.date_naive(),
        begin_utc: begin,
        end_utc: begin + chrono::Duration::minutes(30),
        duration_secs: 1800,
        net_secs: 1800,
        moved: None,
        no_room: None,
    }
}

struct Case {
    ticket: Ticket,
    org: Option<Organisation>,
    agents: HashMap<ZammadUserId, ZammadUser>,
    types: HashMap<AccountingTypeId, String>,
}

impl Case {
    fn new(org: Option<(u64, &str)>) -> Self {
        Case {
            ticket: ticket(org.map(|o| o.0)),
            org: org.map(|(id, name)| Organisation {
                id: OrganisationId(id),
                name: name.into(),
            }),
            agents: agents(),
            types: HashMap::from([(AccountingTypeId(7), "Onsite".to_owned())]),
        }
    }

    fn resolve(&self, e: &TimedEntry, m: &Mappings) -> Resolution {
        let facts = TicketFacts {
            ticket: &self.ticket,
            organisation: self.org.as_ref(),
            agents: &self.agents,
            type_names: &self.types,
        };
        resolve(e, &facts, m, &catalog())
    }

    fn ready(&self, e: &TimedEntry, m: &Mappings) -> DesiredTimesheet {
        match self.resolve(e, m) {
            Resolution::Ready(d) => *d,
            Resolution::Blocked(u) => panic!("blocked: {u:?}"),
        }
    }

    fn blocked(&self, e: &TimedEntry, m: &Mappings) -> Blocker {
        match self.resolve(e, m) {
            Resolution::Ready(d) => panic!("unexpectedly ready: {d:?}"),
            Resolution::Blocked(u) => {
                assert_eq!(u.key, e.key);
                u.blocker
            }
        }
    }
}

fn reason(b: &Blocker) -> ConflictReason {
    match b {
        Blocker::Conflict { reason, .. } => *reason,
        other => panic!("not unmapped: {other:?}"),
    }
}

#[test]
fn full_resolution_by_customer_number_and_agent_email() {
    let d = Case::new(Some((5, "ACME Inc"))).ready(&entry(Some(7)), &mappings());
    assert_eq!(d.user, KimaiUserId(5));
    assert_eq!(d.project, ProjectId(20));
    assert_eq!(d.activity, ActivityId(31));
    assert_eq!(d.description, "[zammad:ta=99] #31001 Printer jam");
    assert_eq!(d.tags, vec!["zammad".to_owned()]);
    assert_eq!(d.zone, "America/New_York");
    assert_eq!(d.begin.to_string(), "2026-05-04T09:00:00");
    assert_eq!(d.duration_secs, 1800);
    assert_eq!(d.billable, None);
}

#[test]
fn explicit_organisation_mapping_wins_over_number_and_name() {
    let mut m = mappings();
    m.customer_by_organisation
        .insert(OrganisationId(5), CustomerId(11));
    assert_eq!(
        Case::new(Some((5, "ACME"))).ready(&entry(None), &m).project,
        ProjectId(21)
    );
}

#[test]
fn customer_by_exact_name_when_no_number_matches() {
    assert_eq!(
        Case::new(Some((6, "Globex")))
            .ready(&entry(None), &mappings())
            .project,
        ProjectId(21)
    );
    let b = Case::new(Some((6, "globex"))).blocked(&entry(None), &mappings());
    assert_eq!(reason(&b), ConflictReason::UnmappedCustomer);
}

#[test]
fn ticket_without_organisation_uses_the_fallback_customer() {
    let b = Case::new(None).blocked(&entry(None), &mappings());
    assert_eq!(reason(&b), ConflictReason::UnmappedCustomer);
    let mut m = mappings();
    m.fallback_customer = Some(CustomerId(12));
    assert_eq!(
        Case::new(None).ready(&entry(None), &m).project,
        ProjectId(22)
    );
}

#[test]
fn customer_auto_create_on_asks_for_creation_after_review_parks() {
    let mut m = mappings();
    m.customer_auto_create = AutoCreate::On;
    let b = Case::new(Some((8, "Initech"))).blocked(&entry(None), &m);
    assert_eq!(
        b,
        Blocker::NeedsCreation {
            actions: vec![NeededAction::CreateCustomer {
                name: "Initech".into(),
                number: "OID-8".into()
            }]
        }
    );
    m.customer_auto_create = AutoCreate::AfterReview;
    let b = Case::new(Some((8, "Initech"))).blocked(&entry(None), &m);
    assert_eq!(reason(&b), ConflictReason::UnmappedCustomer);
}

#[test]
fn per_customer_project_with_configured_name_is_created_when_missing() {
    let mut m = mappings();
    m.project_strategy = ProjectStrategy::PerCustomer {
        name: "Helpdesk".into(),
    };
    // Auto-create off (the default): a conflict that says what to create, never a silent wait.
    let b = Case::new(Some((5, "ACME"))).blocked(&entry(None), &m);
    assert_eq!(reason(&b), ConflictReason::UnmappedProject);
    assert!(format!("{b:?}").contains("Helpdesk"), "{b:?}");
    m.customer_auto_create = AutoCreate::AfterReview;
    let b = Case::new(Some((5, "ACME"))).blocked(&entry(None), &m);
    assert_eq!(reason(&b), ConflictReason::UnmappedProject);
    assert!(format!("{b:?}").contains("awaiting review"), "{b:?}");
    m.customer_auto_create = AutoCreate::On;
    let b = Case::new(Some((5, "ACME"))).blocked(&entry(None), &m);
    assert_eq!(
        b,
        Blocker::NeedsCreation {
            actions: vec![NeededAction::CreateProject {
                customer: CustomerId(10),
                name: "Helpdesk".into(),
                number: None
            }]
        }
    );
}

#[test]
fn per_ticket_project_by_number_then_name_then_creation() {
    let mut m = mappings();
    m.project_strategy = ProjectStrategy::PerTicket;
    // TID-42 exists under ACME, whatever its name.
    assert_eq!(
        Case::new(Some((5, "ACME"))).ready(&entry(None), &m).project,
        ProjectId(23)
    );
    let b = Case::new(Some((6, "Globex"))).blocked(&entry(None), &m);
    assert_eq!(reason(&b), ConflictReason::UnmappedProject);
    assert!(format!("{b:?}").contains("TID-42"), "{b:?}");
    m.customer_auto_create = AutoCreate::On;
    let b = Case::new(Some((6, "Globex"))).blocked(&entry(None), &m);
    assert_eq!(
        b,
        Blocker::NeedsCreation {
            actions: vec![NeededAction::CreateProject {
                customer: CustomerId(11),
                name: "Ticket-31001".into(),
                number: Some("TID-42".into())
            }]
        }
    );
}

#[test]
fn project_by_group_needs_an_explicit_mapping() {
    let mut m = mappings();
    m.project_strategy = ProjectStrategy::ByGroup;
    let case = Case::new(None); // no organisation needed in this strategy
    assert_eq!(
        reason(&case.blocked(&entry(None), &m)),
        ConflictReason::UnmappedProject
    );
    m.project_by_group.insert(GroupId(2), ProjectId(24));
    assert_eq!(case.ready(&entry(None), &m).project, ProjectId(24));
}

#[test]
fn activity_falls_back_to_default_then_conflicts() {
    let case = Case::new(Some((5, "ACME")));
    assert_eq!(
        case.ready(&entry(Some(8)), &mappings()).activity,
        ActivityId(30)
    );
    let mut m = mappings();
    m.default_activity = None;
    assert_eq!(
        reason(&case.blocked(&entry(Some(8)), &m)),
        ConflictReason::UnmappedActivity
    );
    assert_eq!(
        reason(&case.blocked(&entry(None), &m)),
        ConflictReason::UnmappedActivity
    );
    m.activity_without_type = Some(ActivityId(31));
    assert_eq!(case.ready(&entry(None), &m).activity, ActivityId(31));
}

#[test]
fn activity_must_exist_and_fit_the_project() {
    let case = Case::new(Some((5, "ACME")));
    let mut m = mappings();
    m.activity_by_type
        .insert(AccountingTypeId(7), ActivityId(32)); // belongs to project 24
    assert_eq!(
        reason(&case.blocked(&entry(Some(7)), &m)),
        ConflictReason::UnmappedActivity
    );
    m.activity_by_type
        .insert(AccountingTypeId(7), ActivityId(404));
    assert_eq!(
        reason(&case.blocked(&entry(Some(7)), &m)),
        ConflictReason::UnmappedActivity
    );
}

#[test]
fn explicit_user_override_wins_over_email() {
    let mut m = mappings();
    m.user_by_agent.insert(ANNA, KimaiUserId(1));
    let d = Case::new(Some((5, "ACME"))).ready(&entry(None), &m);
    assert_eq!(d.user, KimaiUserId(1));
    assert!(!d.description.contains("(for"), "not a fallback booking");
}

#[test]
fn unknown_agent_is_a_conflict_or_booked_as_api_user_by_policy() {
    let mut case = Case::new(Some((5, "ACME")));
    case.agents.get_mut(&ANNA).unwrap().email = Some("nobody@example.com".into());
    let mut m = mappings();
    assert_eq!(
        reason(&case.blocked(&entry(None), &m)),
        ConflictReason::UnmappedUser
    );
    m.unmapped_user = UnmappedUserPolicy::BookAsApiUser;
    let d = case.ready(&entry(None), &m);
    assert_eq!(d.user, API_USER);
    assert!(
        d.description.ends_with("(for Anna Agent)"),
        "{}",
        d.description
    );
}

#[test]
fn without_create_other_timesheet_the_unmapped_user_policy_applies() {
    let case = Case::new(Some((5, "ACME")));
    let mut m = mappings();
    m.can_book_for_others = false;
    assert_eq!(
        reason(&case.blocked(&entry(None), &m)),
        ConflictReason::UnmappedUser
    );
    m.unmapped_user = UnmappedUserPolicy::BookAsApiUser;
    assert_eq!(case.ready(&entry(None), &m).user, API_USER);
}

#[test]
fn user_is_reported_before_activity_and_customer() {
    let mut case = Case::new(Some((8, "Nobody")));
    case.agents.clear();
    let mut m = mappings();
    m.default_activity = None;
    assert_eq!(
        reason(&case.blocked(&entry(Some(8)), &m)),
        ConflictReason::UnmappedUser
    );
}

#[test]
fn zones_follow_the_kimai_user() {
    let zones = zones_for(
        &agents(),
        &mappings(),
        &catalog(),
        chrono_tz::Europe::Berlin,
    );
    assert_eq!(zones.of(ANNA), chrono_tz::America::New_York);
    assert_eq!(zones.of(ZammadUserId(404)), chrono_tz::Europe::Berlin);
}

#[test]
fn description_template_tags_and_billable() {
    let mut m = mappings();
    m.description_template = "{ticket_title} ({type}, {agent}, {organisation}) T{ticket_id}".into();
    m.tags = vec!["support".into(), "zammad".into(), " ".into()];
    m.billable = Some(false);
    m.billable_by_type.insert(AccountingTypeId(7), true);
    let case = Case::new(Some((5, "ACME")));
    let d = case.ready(&entry(Some(7)), &m);
    assert_eq!(
        d.description,
        "[zammad:ta=99] Printer jam (Onsite, Anna Agent, ACME) T42"
    );
    assert_eq!(d.tags, vec!["zammad".to_owned(), "support".to_owned()]);
    assert_eq!(d.billable, Some(true));
    assert_eq!(case.ready(&entry(None), &m).billable, Some(false));
    // A title that looks like a placeholder is not expanded twice.
    let mut tricky = Case::new(Some((5, "ACME")));
    tricky.ticket.title = "{marker}".into();
    m.description_template = "{marker} {ticket_title}".into();
    assert_eq!(
        tricky.ready(&entry(None), &m).description,
        "[zammad:ta=99] {marker}"
    );
}

#[test]
fn time_only_descriptions_carry_the_marker_and_the_ticket_number_only() {
    let mut m = mappings();
    m.description_template = "{ticket_title} ({type}, {agent}, {organisation})".into();
    m.time_only_descriptions = true;
    let case = Case::new(Some((5, "ACME")));
    let d = case.ready(&entry(Some(7)), &m);
    assert_eq!(d.description, "[zammad:ta=99] #31001");
    for private in ["Printer jam", "Anna", "ACME", "Onsite"] {
        assert!(
            !d.description.contains(private),
            "{private} in {:?}",
            d.description
        );
    }
    // The JSON of a document written before the switch existed reads as off.
    let json = serde_json::to_value(mappings()).unwrap();
    let mut without = json.as_object().unwrap().clone();
    without.remove("time_only_descriptions");
    let read: Mappings = serde_json::from_value(serde_json::Value::Object(without)).unwrap();
    assert!(!read.time_only_descriptions);
}

#[test]
fn resolve_all_splits_ready_and_blocked() {
    let case = Case::new(Some((5, "ACME")));
    let facts = TicketFacts {
        ticket: &case.ticket,
        organisation: case.org.as_ref(),
        agents: &case.agents,
        type_names: &case.types,
    };
    let mut m = mappings();
    m.default_activity = None;
    let (ready, blocked) = resolve_all(&[entry(Some(7)), entry(Some(8))], &facts, &m, &catalog());
    assert_eq!((ready.len(), blocked.len()), (1, 1));
}

#[test]
fn mappings_round_trip_through_json_with_defaults() {
    let mut m = mappings();
    m.project_strategy = ProjectStrategy::PerCustomer {
        name: "Helpdesk".into(),
    };
    m.customer_by_organisation
        .insert(OrganisationId(5), CustomerId(10));
    let json = serde_json::to_string(&m).unwrap();
    assert!(json.contains(r#""strategy":"per_customer""#), "{json}");
    assert_eq!(serde_json::from_str::<Mappings>(&json).unwrap(), m);
    // Only the API user is required; everything else defaults.
    let minimal: Mappings = serde_json::from_str(r#"{"api_user":1}"#).unwrap();
    assert_eq!(minimal, Mappings::new(API_USER));
    assert!(serde_json::from_str::<Mappings>("{}").is_err());
}

#[test]
fn an_entry_without_room_on_its_day_is_a_conflict_naming_the_days_bookings() {
    let mut e = entry(Some(7));
    let at = |h, m| Utc.with_ymd_and_hms(2026, 5, 4, h, m, 0).unwrap();
    // New York is UTC−4 in May: 12:00–16:00 and 16:30–22:00 UTC.
    e.no_room = Some(vec![(at(12, 0), at(16, 0)), (at(16, 30), at(22, 0))]);
    let b = Case::new(Some((5, "ACME Inc"))).blocked(&e, &mappings());
    assert_eq!(reason(&b), ConflictReason::NoRoomOnDay);
    let Blocker::Conflict { detail, .. } = &b else {
        unreachable!()
    };
    assert_eq!(
        detail,
        "no free 30 min on 2026-05-04 (America/New_York): booked 08:00–12:00, 12:30–18:00"
    );
}
