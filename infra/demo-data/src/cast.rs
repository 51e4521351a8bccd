//! The fixed people, organisations and catalogs of the demo world. Only tickets and time are
//! random; who exists is the same for every seed, so settings and docs can name them.

use chrono_tz::Tz;

pub struct Agent {
    pub zammad_id: u64,
    pub kimai_id: u64,
    pub login: String,
    pub firstname: String,
    pub lastname: String,
    /// The same address in both systems: the sync maps agents to Kimai users by e-mail.
    pub email: String,
    pub zone: Tz,
    pub groups: &'static [u64],
    pub kimai_role: &'static str,
}

/// One of the four named agents every world has; the docs and the demo settings name them.
struct Named {
    zammad_id: u64,
    kimai_id: u64,
    login: &'static str,
    firstname: &'static str,
    lastname: &'static str,
    zone: Tz,
    groups: &'static [u64],
    kimai_role: &'static str,
}

const NAMED: [Named; 4] = [
    Named {
        zammad_id: 3,
        kimai_id: 2,
        login: "anna.schmidt",
        firstname: "Anna",
        lastname: "Schmidt",
        zone: Tz::Europe__Berlin,
        groups: &[1, 2],
        kimai_role: "ROLE_USER",
    },
    Named {
        zammad_id: 4,
        kimai_id: 3,
        login: "bernd.koch",
        firstname: "Bernd",
        lastname: "Koch",
        zone: Tz::Europe__Berlin,
        groups: &[2, 3],
        kimai_role: "ROLE_TEAMLEAD",
    },
    Named {
        zammad_id: 5,
        kimai_id: 4,
        login: "carla.weber",
        firstname: "Carla",
        lastname: "Weber",
        zone: Tz::Europe__Berlin,
        groups: &[1, 2, 3],
        kimai_role: "ROLE_USER",
    },
    Named {
        zammad_id: 6,
        kimai_id: 5,
        login: "dan.miller",
        firstname: "Dan",
        lastname: "Miller",
        zone: Tz::America__New_York,
        groups: &[2, 3],
        kimai_role: "ROLE_USER",
    },
];

/// The named agents alone: the demo world's default.
pub const NAMED_AGENTS: usize = NAMED.len();
/// A larger service desk (the soak's 40 agents) stays well inside this.
pub const MAX_AGENTS: usize = 200;

/// Zones of the agents beyond the named four, in turn: three zones, one without daylight
/// saving and with a half-hour offset.
const MORE_ZONES: [Tz; 3] = [Tz::Europe__Berlin, Tz::America__New_York, Tz::Asia__Kolkata];
const MORE_GROUPS: [&[u64]; 3] = [&[1, 2], &[2, 3], &[1, 2, 3]];
/// Zammad ids of the agents beyond the named four start here, clear of the fixed users (2–14).
const MORE_ZAMMAD_IDS: u64 = 100;

/// The first `count` agents: the named four, then numbered ones (`agent05`, …) spread over
/// three zones and the groups. Kimai user ids follow on from the named agents' (2–5).
pub fn agents(count: usize) -> Vec<Agent> {
    let named = NAMED.iter().map(|a| Agent {
        zammad_id: a.zammad_id,
        kimai_id: a.kimai_id,
        login: a.login.to_owned(),
        firstname: a.firstname.to_owned(),
        lastname: a.lastname.to_owned(),
        email: format!("{}@support.example", a.login),
        zone: a.zone,
        groups: a.groups,
        kimai_role: a.kimai_role,
    });
    let more = (NAMED.len()..).map(|i| {
        let k = i - NAMED.len();
        let login = format!("agent{:02}", i + 1);
        Agent {
            zammad_id: MORE_ZAMMAD_IDS + k as u64,
            kimai_id: NAMED.len() as u64 + 2 + k as u64,
            email: format!("{login}@support.example"),
            login,
            firstname: "Agent".to_owned(),
            lastname: format!("{:02}", i + 1),
            zone: MORE_ZONES[k % MORE_ZONES.len()],
            groups: MORE_GROUPS[k % MORE_GROUPS.len()],
            kimai_role: "ROLE_USER",
        }
    });
    named.chain(more).take(count).collect()
}

/// Index into [`agents`] of the agent whose token is `demo-agent-token` in both systems.
pub const TOKEN_AGENT: usize = 0;

pub const ADMIN_ZAMMAD_ID: u64 = 2;
pub const ADMIN_EMAIL: &str = "admin@support.example";
/// Kimai's API user (the sync books through it for everyone).
pub const KIMAI_API_USER: u64 = 1;

pub const ADMIN_TOKEN: &str = "demo-admin-token";
pub const AGENT_TOKEN: &str = "demo-agent-token";

pub struct Org {
    pub id: u64,
    pub name: &'static str,
    /// The organisation's one customer user in Zammad.
    pub contact_id: u64,
    pub contact_first: &'static str,
    pub contact_last: &'static str,
    pub contact_email: &'static str,
    pub kimai_customer: u64,
    /// `OID-<id>` for most; one customer is only found by its exact name.
    pub kimai_number: Option<&'static str>,
}

pub const ORGS: [Org; 4] = [
    Org {
        id: 1,
        name: "Nordlicht Logistik GmbH",
        contact_id: 10,
        contact_first: "Ines",
        contact_last: "Berg",
        contact_email: "ines@nordlicht.example",
        kimai_customer: 1,
        kimai_number: Some("OID-1"),
    },
    Org {
        id: 2,
        name: "Café Adler",
        contact_id: 11,
        contact_first: "Tom",
        contact_last: "Adler",
        contact_email: "tom@cafe-adler.example",
        kimai_customer: 2,
        kimai_number: Some("OID-2"),
    },
    Org {
        id: 3,
        name: "Stadtwerke Beispielstadt",
        contact_id: 12,
        contact_first: "Leonie",
        contact_last: "Franke",
        contact_email: "it@stadtwerke.example",
        kimai_customer: 3,
        kimai_number: Some("OID-3"),
    },
    Org {
        id: 4,
        name: "Hofmann & Partner Steuerberatung",
        contact_id: 13,
        contact_first: "Jana",
        contact_last: "Hofmann",
        contact_email: "jana@hofmann-partner.example",
        kimai_customer: 4,
        kimai_number: None,
    },
];

/// A customer user without organisation (the ticket without organisation is theirs).
pub const WALK_IN_ID: u64 = 14;

/// Kimai customer with no Zammad counterpart (internal work), and its project.
pub const INTERNAL_CUSTOMER: u64 = 5;

pub const GROUPS: [(u64, &str); 3] = [(1, "Users"), (2, "Service Desk"), (3, "Projects")];

/// Zammad time accounting types; the Kimai activities have the same ids and names.
pub const TYPES: [(u64, &str); 4] = [
    (1, "Remote support"),
    (2, "On-site"),
    (3, "Consulting"),
    (4, "Development"),
];

pub const TITLES: [&str; 20] = [
    "VPN drops every 20 minutes",
    "Printer queue stuck",
    "New laptop for an apprentice",
    "Mailbox full",
    "Backup job failed overnight",
    "Cash register cannot reach the server",
    "Wi-Fi in the meeting room",
    "Password reset for the accounting share",
    "Firewall rule for the new supplier portal",
    "Outlook asks for the password again and again",
    "Replace the switch in the warehouse",
    "Scanner sends no e-mails",
    "Licence renewal for the office suite",
    "Slow ERP in the afternoon",
    "Phone system update",
    "Onboarding of two new colleagues",
    "Certificate expires next week",
    "Shared calendar not syncing",
    "Move the file server to new hardware",
    "Monitor flickers",
];
