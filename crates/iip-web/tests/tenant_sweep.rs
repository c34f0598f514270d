//! The tenant sweep (docs: shared RELIABILITY.md "Tenant sweep"; OWASP ASVS V8.2, V8.4.1).
//!
//! Every route of the router has a declared policy below: who may reach it and what each
//! identity of another organization gets. The router's source is read, and a route without a
//! policy (or a policy without a route) fails the test: a new route cannot ship undeclared.
//!
//! Organization B (`north-bay-adult-school`) gets objects of every type through the router,
//! their text fields holding canary strings. Then every route is called, its path filled
//! with B's objects, by every identity of organization A's side (anonymous, A's case worker,
//! A's org admin, the south-bay consortium analyst): the status must be the declared one,
//! no body may hold a canary, no answer may be a 5xx, and B's objects must be unchanged
//! afterwards. Positive controls show the same requests do reach B's data for B (and for the
//! consented partner), so the sweep can fail.

mod support;
mod sweep;

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use iip_directory::{Referral, ReferralStatus};
use iip_store::{AccountStore, CaseStore, Consent, DirectoryStore, ParticipantRecord, Pathway, ReferralFilter};
use iip_store_sqlite::SqliteStore;
use iip_web::router;
use support::{add_user, csrf, sign_in};
use sweep::{Payload, Reply, request};

const A: &str = "south-bay-adult-school";
const B: &str = "north-bay-adult-school";

// B's canaries: unique strings in every text field B's objects have.
const B_FIRST: &str = "CANARY-B-FIRST-7f3a";
const B_LAST: &str = "CANARY-B-LAST-91c2";
const B_NEED: &str = "CANARY-B-NEED-4d1e";
const B_GOAL: &str = "CANARY-B-GOAL-c07b";
const B_PURPOSE: &str = "CANARY-B-PURPOSE-2b8c";
const B_NOTE: &str = "CANARY-B-NOTE-e55d";
const B_USER: &str = "CANARY-B-USER-0a9f";
// The control participant's (B2), whose objects the positive controls write to.
const B2_FIRST: &str = "CANARY-B2-FIRST-38d0";
const B2_LAST: &str = "CANARY-B2-LAST-a4f1";
const B2_NEED: &str = "CANARY-B2-NEED-66e2";
const B2_GOAL: &str = "CANARY-B2-GOAL-19b7";
const B2_PURPOSE: &str = "CANARY-B2-PURPOSE-d3c5";
const B2_NOTE: &str = "CANARY-B2-NOTE-70aa";

const CANARIES: [&str; 13] = [
    B_FIRST, B_LAST, B_NEED, B_GOAL, B_PURPOSE, B_NOTE, B_USER, B2_FIRST, B2_LAST, B2_NEED, B2_GOAL, B2_PURPOSE,
    B2_NOTE,
];

// ---------------------------------------------------------------------------------------
// The declared policy.

/// Who may reach a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    /// Anyone, signed in or not; it serves no tenant data.
    Public,
    /// Whoever holds the one-time link's secret: the link is the credential. It reveals no
    /// participant data (a welcome link shows the invited email only).
    Bearer,
    /// Any signed-in user; the answer covers the user's own organization or view only.
    SignedIn,
    /// Signed-in users: suppressed aggregates of the scopes within their subtree; a scope
    /// outside it is 403 (a case worker's subtree is their organization).
    Subtree,
    /// Case workers and org admins of the owning organization. Another organization's
    /// object: 404, as for an id that does not exist; other roles: 403.
    OwnOrg,
    /// Case workers of the sending or the receiving organization of a referral; the receiver
    /// sees the person and the note only under consent and a data-sharing agreement in force.
    ReferralParties,
    /// Case workers of a partner named by an active consent, under a data-sharing agreement
    /// in force: read only.
    Partner,
    /// State-wide roles only (a state analyst at the root, a system admin).
    StateWide,
    /// Org admins (their organization's accounts) and system admins (every organization's).
    Admins,
}

impl Who {
    fn describe(self) -> &'static str {
        match self {
            Who::Public => "public",
            Who::Bearer => "bearer of the one-time token",
            Who::SignedIn => "any signed-in user (own organization's view)",
            Who::Subtree => "signed-in, aggregates within the user's subtree",
            Who::OwnOrg => "case workers / org admins of the owning organization",
            Who::ReferralParties => "case workers of the referral's sender or receiver",
            Who::Partner => "partner under active consent + data-sharing agreement",
            Who::StateWide => "state-wide roles only",
            Who::Admins => "org admins (own org) and system admins",
        }
    }

    /// Routes that name a tenant's object: wide roles must get 403 or 404 there.
    fn guards_objects(self) -> bool {
        matches!(self, Who::OwnOrg | Who::ReferralParties | Who::Partner)
    }
}

/// What an identity must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Code(u16),
    /// Not signed in: pages redirect to `/login?next=…` (303), the API answers 401.
    Login,
}

const L: Expect = Expect::Login;
const OK: Expect = Expect::Code(200);
const fn c(code: u16) -> Expect {
    Expect::Code(code)
}

/// The identities of organization A's side, in the order of `Probe::expect`.
const SIDE_A: [&str; 4] = ["anonymous", "A case worker", "A org admin", "south-bay analyst"];
/// Short tags of the same identities (for ids they create).
const TAGS: [&str; 4] = ["anon", "cw", "admin", "analyst"];

const PUBLIC: [Expect; 4] = [OK, OK, OK, OK];
const SIGNED_IN: [Expect; 4] = [L, OK, OK, OK];
const FOREIGN_SCOPE: [Expect; 4] = [L, c(403), c(403), c(403)];
const OWN_CASE_WORK: [Expect; 4] = [L, OK, OK, c(403)];
const FOREIGN_OBJECT: [Expect; 4] = [L, c(404), c(404), c(403)];
const STATE_WIDE: [Expect; 4] = [L, c(403), c(403), c(403)];

/// What a request body is built from.
struct Ctx<'a> {
    csrf: &'a str,
    tag: &'a str,
    objects: &'a Objects,
}

type Make = fn(&Ctx<'_>) -> String;

#[derive(Clone, Copy)]
enum Body {
    None,
    Form(Make),
    Json(Make),
}

/// One request of the sweep: a route (exactly as `router()` writes it) and its policy.
#[derive(Clone, Copy)]
struct Probe {
    method: &'static str,
    pattern: &'static str,
    who: Who,
    /// Appended to the filled path.
    query: &'static str,
    /// The value of `{record}`.
    record: Option<&'static str>,
    /// `{participant_id}` is A's own participant (to pair with B's other objects).
    mine: bool,
    body: Body,
    /// Anonymous, A's case worker, A's org admin, the south-bay analyst.
    expect: [Expect; 4],
    /// B's own case worker, the same request on B's control objects (the request is valid).
    owner: Option<u16>,
}

fn p(method: &'static str, pattern: &'static str, who: Who, expect: [Expect; 4]) -> Probe {
    Probe {
        method,
        pattern,
        who,
        query: "",
        record: None,
        mine: false,
        body: Body::None,
        expect,
        owner: None,
    }
}

impl Probe {
    fn query(self, query: &'static str) -> Self {
        Self { query, ..self }
    }
    fn record(self, record: &'static str) -> Self {
        Self {
            record: Some(record),
            ..self
        }
    }
    fn mine(self) -> Self {
        Self { mine: true, ..self }
    }
    fn form(self, make: Make) -> Self {
        Self {
            body: Body::Form(make),
            ..self
        }
    }
    fn json(self, make: Make) -> Self {
        Self {
            body: Body::Json(make),
            ..self
        }
    }
    fn owner(self, code: u16) -> Self {
        Self {
            owner: Some(code),
            ..self
        }
    }
}

const FOREIGN: &str = "?scope=north-bay-adult-school";

fn csrf_only(c: &Ctx<'_>) -> String {
    format!("csrf={}", c.csrf)
}

/// Every route of the router with its policy, and the requests the sweep makes of it.
fn policy() -> Vec<Probe> {
    let record_forms: [(&'static str, Make); 5] = [
        ("milestones", |c| {
            format!("csrf={}&milestone=civic.voter_registered&date=2024-10-02", c.csrf)
        }),
        ("activities", |c| {
            format!("csrf={}&date=2024-10-02&program=esl&hours=1.5&element=english", c.csrf)
        }),
        ("assessments", |c| {
            format!("csrf={}&date=2024-10-02&instrument=casas_reading&score=215", c.csrf)
        }),
        ("needs", |c| {
            format!("csrf={}&element=health&description=sweep+need", c.csrf)
        }),
        ("goals", |c| {
            format!(
                "csrf={}&element=economic&description=sweep+goal&target_date=2099-01-01",
                c.csrf
            )
        }),
    ];
    let record_json: [(&'static str, Make); 3] = [
        ("activities", |_| {
            r#"{"date":"2024-09-03","program":"esl","hours":3.5,"element":"english"}"#.into()
        }),
        ("milestones", |_| {
            r#"{"date":"2024-11-20","milestone":"health.insurance_enrolled"}"#.into()
        }),
        ("assessments", |_| {
            r#"{"date":"2024-09-03","instrument":"casas_reading","score":212}"#.into()
        }),
    ];
    let mut table = vec![
        // Aggregates: suppressed, filtered to the user's subtree.
        p("GET", "/", Who::Subtree, SIGNED_IN),
        p("GET", "/", Who::Subtree, FOREIGN_SCOPE).query(FOREIGN),
        p("GET", "/dashboard.csv", Who::Subtree, SIGNED_IN),
        p("GET", "/dashboard.csv", Who::Subtree, FOREIGN_SCOPE).query(FOREIGN),
        p("GET", "/metrics.csv", Who::Subtree, SIGNED_IN),
        p("GET", "/metrics.csv", Who::Subtree, FOREIGN_SCOPE).query(FOREIGN),
        p("GET", "/framework", Who::Public, PUBLIC),
        p("GET", "/metrics", Who::Subtree, SIGNED_IN),
        p("GET", "/metrics", Who::Subtree, FOREIGN_SCOPE).query(FOREIGN),
        p("GET", "/api/metrics", Who::Subtree, SIGNED_IN),
        p("GET", "/api/metrics", Who::Subtree, FOREIGN_SCOPE).query(FOREIGN),
        // The case-work API: the organization is the account's, never the body's.
        p("GET", "/api/participants", Who::OwnOrg, OWN_CASE_WORK),
        p("POST", "/api/participants", Who::OwnOrg, [L, c(422), c(422), c(403)]).json(|c| {
            format!(
                r#"{{"org_id":"{B}","participant_id":"sweep-api-org-{}","first_name":"Intruder"}}"#,
                c.tag
            )
        }),
        p("POST", "/api/participants", Who::OwnOrg, [L, c(201), c(201), c(403)])
            .json(|c| format!(r#"{{"participant_id":"sweep-api-{}"}}"#, c.tag))
            .owner(201),
        p("POST", "/api/participants/search", Who::OwnOrg, OWN_CASE_WORK).json(|_| r#"{"q":"CANARY"}"#.into()),
        p("POST", "/api/participants/search", Who::OwnOrg, OWN_CASE_WORK)
            .json(|c| format!(r#"{{"q":"{}"}}"#, c.objects.pid)),
        p("GET", "/api/participants/{participant_id}", Who::OwnOrg, FOREIGN_OBJECT).owner(200),
        p(
            "POST",
            "/api/participants/{participant_id}/{record}",
            Who::OwnOrg,
            [L, c(422), c(422), c(403)],
        )
        .record("milestones")
        .json(|_| format!(r#"{{"org_id":"{B}","date":"2024-11-21","milestone":"civic.volunteered"}}"#)),
        p("GET", "/api/openapi.json", Who::Public, PUBLIC),
        // Sign-in and accounts.
        p("GET", "/login", Who::Public, PUBLIC),
        p("POST", "/login", Who::Public, [c(401); 4])
            .form(|_| "email=nobody%40sweep.test&password=not+the+password".into()),
        p("POST", "/logout", Who::SignedIn, [L, c(303), c(303), c(303)]).form(csrf_only),
        p("GET", "/admin/users", Who::Admins, [L, c(403), OK, c(403)]),
        p("POST", "/admin/users", Who::Admins, [L, c(403), c(422), c(403)]).form(|c| {
            format!(
                "csrf={}&email=intruder-{}%40sweep.test&name=Intruder&role=case_worker&org_id={B}",
                c.csrf, c.tag
            )
        }),
        p(
            "POST",
            "/admin/users/{id}/disable",
            Who::Admins,
            [L, c(403), c(404), c(403)],
        )
        .form(csrf_only),
        p("GET", "/welcome/{token}", Who::Bearer, PUBLIC),
        p("POST", "/welcome/{token}", Who::Bearer, [c(422); 4])
            .form(|_| "password=a+long+sweep+password&confirm=another+long+password".into()),
        // Case work through the pages.
        p("GET", "/participants", Who::OwnOrg, OWN_CASE_WORK),
        // Naming another organization is refused (422), as the API refuses it.
        p("POST", "/participants", Who::OwnOrg, [L, c(422), c(422), c(403)])
            .form(|c| {
                format!(
                    "csrf={}&org_id={B}&participant_id=sweep-form-org-{}&first_name=Intruder",
                    c.csrf, c.tag
                )
            })
            .owner(303),
        p("POST", "/participants", Who::OwnOrg, [L, c(303), c(303), c(403)])
            .form(|c| {
                format!(
                    "csrf={}&participant_id=sweep-form-{}&first_name=Intruder",
                    c.csrf, c.tag
                )
            })
            .owner(303),
        p("GET", "/participants/new", Who::OwnOrg, OWN_CASE_WORK),
        p("POST", "/participants/search", Who::OwnOrg, OWN_CASE_WORK).form(|c| format!("csrf={}&q=CANARY", c.csrf)),
        p("POST", "/participants/search", Who::OwnOrg, OWN_CASE_WORK)
            .form(|c| format!("csrf={}&q={}", c.csrf, c.objects.pid)),
        p("GET", "/participants/{participant_id}", Who::OwnOrg, FOREIGN_OBJECT).owner(200),
        p(
            "POST",
            "/participants/{participant_id}/self-assessment",
            Who::OwnOrg,
            FOREIGN_OBJECT,
        )
        .form(|c| format!("csrf={}&lang=es", c.csrf))
        .owner(200),
        p(
            "POST",
            "/participants/{participant_id}/consents",
            Who::OwnOrg,
            FOREIGN_OBJECT,
        )
        .form(|c| {
            format!(
                "csrf={}&partner_org_id=south-bay-cbo&purpose=sweep+consent&valid_from=2024-01-01",
                c.csrf
            )
        })
        .owner(303),
        p(
            "POST",
            "/participants/{participant_id}/consents/{consent_id}/revoke",
            Who::OwnOrg,
            FOREIGN_OBJECT,
        )
        .form(csrf_only)
        .owner(303),
        // A's own participant with B's consent: still not B's consent to revoke.
        p(
            "POST",
            "/participants/{participant_id}/consents/{consent_id}/revoke",
            Who::OwnOrg,
            FOREIGN_OBJECT,
        )
        .mine()
        .form(csrf_only),
        p(
            "POST",
            "/participants/{participant_id}/referrals",
            Who::OwnOrg,
            FOREIGN_OBJECT,
        )
        .form(|c| {
            format!(
                "csrf={}&service_id=north-bay-cbo-citizenship&element=credentials&note=sweep+referral",
                c.csrf
            )
        })
        .owner(303),
        // Referrals and their figures.
        p("GET", "/referrals", Who::ReferralParties, OWN_CASE_WORK),
        p("GET", "/referrals/metrics", Who::Subtree, SIGNED_IN),
        p("GET", "/api/referrals/metrics", Who::Subtree, SIGNED_IN),
        p("GET", "/gaps", Who::Subtree, SIGNED_IN),
        p("GET", "/gaps.csv", Who::Subtree, SIGNED_IN),
        p("GET", "/api/gaps", Who::Subtree, SIGNED_IN),
        p("GET", "/referrals/{id}", Who::ReferralParties, FOREIGN_OBJECT).owner(200),
        p("POST", "/referrals/{id}/status", Who::ReferralParties, FOREIGN_OBJECT)
            .form(|c| format!("csrf={}&status=cancelled&reason=sweep", c.csrf))
            .owner(303),
        p("POST", "/referrals/{id}/status", Who::ReferralParties, FOREIGN_OBJECT)
            .form(|c| format!("csrf={}&status=accepted", c.csrf)),
        // The directory: public services, the agreements in the user's view.
        p("GET", "/directory", Who::SignedIn, SIGNED_IN),
        p("GET", "/directory.json", Who::SignedIn, SIGNED_IN),
        p("GET", "/api/services", Who::SignedIn, SIGNED_IN),
        // What partners share.
        p("GET", "/shared", Who::Partner, OWN_CASE_WORK),
        p("GET", "/shared/{org_id}/{participant_id}", Who::Partner, FOREIGN_OBJECT),
        // The self-assessment link: its holder answers; nothing about the person is shown.
        p("GET", "/s/{token}", Who::Bearer, PUBLIC),
        p("POST", "/s/{token}", Who::Bearer, [c(422); 4]).form(|_| format!("lang=en&{}=3", iip_i18n::QUESTIONS[0].id)),
        // The funding simulator compares every consortium.
        p("GET", "/funding", Who::StateWide, STATE_WIDE),
        p("GET", "/funding.csv", Who::StateWide, STATE_WIDE),
        p("GET", "/api/funding", Who::StateWide, STATE_WIDE),
        // Static files and health.
        p("GET", "/static/app.css", Who::Public, PUBLIC),
        p("GET", "/favicon.svg", Who::Public, PUBLIC),
        p("GET", "/favicon.ico", Who::Public, PUBLIC),
        p("GET", "/healthz", Who::Public, PUBLIC),
    ];
    for (record, make) in record_json {
        table.push(
            p(
                "POST",
                "/api/participants/{participant_id}/{record}",
                Who::OwnOrg,
                FOREIGN_OBJECT,
            )
            .record(record)
            .json(make)
            .owner(201),
        );
    }
    for (record, make) in record_forms {
        table.push(
            p(
                "POST",
                "/participants/{participant_id}/{record}",
                Who::OwnOrg,
                FOREIGN_OBJECT,
            )
            .record(record)
            .form(make)
            .owner(303),
        );
    }
    table
}

/// The `(METHOD, path)` routes of `router()`, read from its source.
fn router_routes() -> BTreeSet<(String, String)> {
    let routes = sweep::router_routes(include_str!("../src/lib.rs")).expect("the router's routes");
    routes.into_iter().collect()
}

/// Every route has a declared policy, and every policy a route; one `Who` per route.
fn check_coverage(table: &[Probe]) -> Result<usize, String> {
    let routes = router_routes();
    let declared: BTreeSet<(String, String)> = table
        .iter()
        .map(|p| (p.method.to_owned(), p.pattern.to_owned()))
        .collect();
    let mut problems = Vec::new();
    for (method, path) in routes.difference(&declared) {
        problems.push(format!(
            "route with no declared policy: {method} {path} (declare it in policy() of tests/tenant_sweep.rs)"
        ));
    }
    for (method, path) in declared.difference(&routes) {
        problems.push(format!("policy for a route the router does not have: {method} {path}"));
    }
    let mut who: BTreeMap<(&str, &str), Who> = BTreeMap::new();
    for probe in table {
        let first = *who.entry((probe.method, probe.pattern)).or_insert(probe.who);
        if first != probe.who {
            problems.push(format!(
                "{} {}: two policies ({first:?}, {:?})",
                probe.method, probe.pattern, probe.who
            ));
        }
    }
    if problems.is_empty() {
        Ok(routes.len())
    } else {
        Err(problems.join("\n"))
    }
}

#[test]
fn every_route_of_the_router_has_a_declared_policy() {
    if let Err(problems) = check_coverage(&policy()) {
        panic!("{problems}");
    }
}

#[test]
fn the_coverage_check_fails_for_an_undeclared_or_unknown_route() {
    let mut table = policy();
    let dropped = table.remove(table.iter().position(|p| p.pattern == "/healthz").expect("healthz"));
    let err = check_coverage(&table).expect_err("a route without policy");
    assert!(err.contains("no declared policy: GET /healthz"), "{err}");
    table.push(dropped);
    table.push(p(
        "DELETE",
        "/participants/{participant_id}",
        Who::OwnOrg,
        FOREIGN_OBJECT,
    ));
    let err = check_coverage(&table).expect_err("a policy without route");
    assert!(
        err.contains("does not have: DELETE /participants/{participant_id}"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// Seeding B through the router.

/// One participant's objects, as the sweep fills paths with them.
#[derive(Debug, Clone, Default)]
struct Objects {
    pid: String,
    consent: i64,
    referral: i64,
    user_id: i64,
    invite: String,
    sa_token: String,
}

struct Identity {
    label: &'static str,
    email: Option<&'static str>,
    cookie: Option<String>,
    csrf: String,
}

impl Identity {
    async fn sign_in(router: &axum::Router, label: &'static str, email: &'static str) -> Self {
        let cookie = sign_in(router, email).await;
        let csrf = csrf(router, &cookie).await;
        Self {
            label,
            email: Some(email),
            cookie: Some(cookie),
            csrf,
        }
    }

    fn anonymous() -> Self {
        Self {
            label: "anonymous",
            email: None,
            cookie: None,
            csrf: String::new(),
        }
    }

    async fn send(&self, router: &axum::Router, method: &str, uri: &str, payload: Payload) -> Reply {
        request(router, method, uri, self.cookie.as_deref(), payload).await
    }

    async fn form(&self, router: &axum::Router, uri: &str, fields: &str) -> Reply {
        let body = format!("csrf={}&{fields}", self.csrf);
        self.send(router, "POST", uri, Payload::Form(body)).await
    }

    async fn get(&self, router: &axum::Router, uri: &str) -> Reply {
        self.send(router, "GET", uri, Payload::Empty).await
    }
}

fn enc(text: &str) -> String {
    text.replace(' ', "+")
}

/// The 64-hex secret after `marker` on a page (links are HTML-escaped there).
fn secret_after(body: &str, marker: &str) -> String {
    let body = body.replace("&#x2f;", "/");
    let rest = body
        .split(marker)
        .nth(1)
        .unwrap_or_else(|| panic!("{marker} on {body}"));
    let secret: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
    assert_eq!(secret.len(), 64, "{marker}{secret}");
    secret
}

/// Texts of one participant of B.
struct Texts {
    pid: &'static str,
    first: &'static str,
    last: &'static str,
    need: &'static str,
    goal: &'static str,
    purpose: &'static str,
    note: &'static str,
}

/// Creates, as B's case worker through the router, a participant with every kind of object.
/// Its `consent` is the one to north-bay-cbo; the library's is returned beside it.
async fn seed_participant(router: &axum::Router, store: &SqliteStore, b: &Identity, t: &Texts) -> (Objects, i64) {
    let expect = |r: Reply, code: u16, what: &str| {
        assert_eq!(r.status.as_u16(), code, "seeding {what}: {}", r.body);
        r
    };
    let pid = t.pid;
    expect(
        b.form(
            router,
            "/participants",
            &format!(
                "participant_id={pid}&first_name={}&last_name={}&primary_language=es&us_arrival_year=2019",
                t.first, t.last
            ),
        )
        .await,
        303,
        "intake",
    );
    let base = format!("/participants/{pid}");
    for (record, fields) in [
        ("needs", format!("element=english&description={}", t.need)),
        (
            "goals",
            format!("element=credentials&description={}&target_date=2099-06-30", t.goal),
        ),
        ("milestones", "milestone=civic.volunteered&date=2024-10-01".to_owned()),
        (
            "activities",
            "date=2024-10-01&program=esl&hours=2.5&element=english".to_owned(),
        ),
    ] {
        expect(b.form(router, &format!("{base}/{record}"), &fields).await, 303, record);
    }
    // Consent to the partner first (a referral needs it), then one to the library, whose
    // data-sharing agreement has ended (it shares nothing; the controls may revoke it).
    for (partner, purpose) in [("north-bay-cbo", t.purpose), ("north-bay-library", "library consent")] {
        expect(
            b.form(
                router,
                &format!("{base}/consents"),
                &format!(
                    "partner_org_id={partner}&purpose={}&valid_from=2024-01-01",
                    enc(purpose)
                ),
            )
            .await,
            303,
            "consent",
        );
    }
    expect(
        b.form(
            router,
            &format!("{base}/referrals"),
            &format!(
                "service_id=north-bay-cbo-citizenship&element=credentials&note={}",
                t.note
            ),
        )
        .await,
        303,
        "referral",
    );
    let link = expect(
        b.form(router, &format!("{base}/self-assessment"), "lang=en").await,
        200,
        "self-assessment link",
    );
    let record = store
        .participant_record(B, pid)
        .await
        .expect("store")
        .expect("B's participant");
    let consents = store.consents(record.row).await.expect("consents");
    let consent_to = |partner: &str| {
        consents
            .iter()
            .find(|c| c.partner_org_id == partner)
            .map(|c| c.id)
            .expect("a consent")
    };
    let referrals = store
        .referrals(ReferralFilter::Participant {
            org_id: B,
            participant_id: pid,
        })
        .await
        .expect("referrals");
    assert_eq!(referrals.len(), 1);
    let objects = Objects {
        pid: pid.to_owned(),
        consent: consent_to("north-bay-cbo"),
        referral: referrals[0].id,
        user_id: 0,
        invite: String::new(),
        sa_token: secret_after(&link.body, "/s/"),
    };
    (objects, consent_to("north-bay-library"))
}

/// B's objects as the store has them, to compare before and after the sweep.
#[derive(Debug, PartialEq)]
struct BState {
    record: ParticipantRecord,
    pathway: Pathway,
    consents: Vec<Consent>,
    referral: Referral,
    participants: Vec<String>,
    users: Vec<(i64, String, String, bool)>,
    link_open: bool,
    invite_open: bool,
}

async fn b_state(store: &SqliteStore, b: &Objects) -> BState {
    let now = iip_web::auth::unix_now();
    let record = store
        .participant_record(B, &b.pid)
        .await
        .expect("store")
        .expect("B's participant");
    BState {
        pathway: store.pathway(record.row).await.expect("pathway"),
        consents: store.consents(record.row).await.expect("consents"),
        record,
        referral: store.referral(b.referral).await.expect("store").expect("referral"),
        participants: store
            .search_participants(B, "", 100_000)
            .await
            .expect("search")
            .into_iter()
            .map(|p| p.participant_id)
            .collect(),
        users: store
            .users(Some(B))
            .await
            .expect("users")
            .into_iter()
            .map(|u| (u.id, u.email, u.role, u.disabled))
            .collect(),
        link_open: store
            .self_assessment_link(&iip_auth::token_hash(&b.sa_token), now)
            .await
            .expect("store")
            .is_some(),
        invite_open: store
            .invite_user(&iip_auth::token_hash(&b.invite), now)
            .await
            .expect("store")
            .is_some(),
    }
}

// ---------------------------------------------------------------------------------------
// The sweep.

/// The path of `probe` filled with `objects` (and A's own participant where it says so).
fn fill(probe: &Probe, objects: &Objects, own_participant: &str) -> String {
    let mut out = String::new();
    let mut rest = probe.pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').expect("a closing brace") + open;
        let param = &rest[open + 1..close];
        let value = match param {
            "participant_id" if probe.mine => own_participant.to_owned(),
            "participant_id" => objects.pid.clone(),
            "record" => probe.record.expect("the probe names its {record}").to_owned(),
            "consent_id" => objects.consent.to_string(),
            "org_id" => B.to_owned(),
            "id" if probe.pattern.starts_with("/admin/users/") => objects.user_id.to_string(),
            "id" if probe.pattern.starts_with("/referrals/") => objects.referral.to_string(),
            "token" if probe.pattern.starts_with("/welcome/") => objects.invite.clone(),
            "token" if probe.pattern.starts_with("/s/") => objects.sa_token.clone(),
            other => panic!(
                "{} {}: no B object for {{{other}}}: add one to fill() in tests/tenant_sweep.rs",
                probe.method, probe.pattern
            ),
        };
        out.push_str(&value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out.push_str(probe.query);
    out
}

fn payload(probe: &Probe, ctx: &Ctx<'_>) -> Payload {
    match probe.body {
        Body::None => Payload::Empty,
        Body::Form(make) => Payload::Form(make(ctx)),
        Body::Json(make) => Payload::Json(make(ctx)),
    }
}

fn meets(expect: Expect, uri: &str, reply: &Reply) -> bool {
    match expect {
        Expect::Code(code) => reply.status.as_u16() == code,
        Expect::Login if uri.starts_with("/api/") => reply.status == StatusCode::UNAUTHORIZED,
        Expect::Login => reply.status == StatusCode::SEE_OTHER && reply.location.starts_with("/login?next="),
    }
}

fn excerpt(body: &str) -> String {
    body.chars().take(300).collect::<String>().replace('\n', " ")
}

/// What the sweep saw.
#[derive(Default)]
struct Tally {
    requests: usize,
    server_errors: usize,
    canaries: usize,
    mismatches: usize,
    controls: usize,
    /// 404s compared with the answer for an id that does not exist.
    compared: usize,
    problems: Vec<String>,
}

impl Tally {
    /// No 5xx and no canary (but those `allowed`).
    fn inspect(&mut self, who: &str, method: &str, uri: &str, reply: &Reply, allowed: &[&str]) {
        self.requests += 1;
        if reply.status.is_server_error() {
            self.server_errors += 1;
            self.problems.push(format!(
                "5xx: {who} {method} {uri} → {}: {}",
                reply.status,
                excerpt(&reply.body)
            ));
        }
        for canary in CANARIES.iter().filter(|c| !allowed.contains(c)) {
            if reply.body.contains(canary) || reply.headers.contains(canary) {
                self.canaries += 1;
                self.problems.push(format!(
                    "foreign canary {canary}: {who} {method} {uri} → {}",
                    reply.status
                ));
            }
        }
    }

    fn mismatch(&mut self, message: String) {
        self.mismatches += 1;
        self.problems.push(message);
    }
}

#[tokio::test]
async fn no_identity_of_another_organization_reaches_b_through_any_route() {
    let table = policy();
    let routes = check_coverage(&table).unwrap_or_else(|problems| panic!("{problems}"));

    let (state, store, _dir) = support::state_with_directory(300).await;
    for (email, role, org) in [
        ("a-worker@sweep.test", "case_worker", A),
        ("a-admin@sweep.test", "org_admin", A),
        ("b-worker@sweep.test", "case_worker", B),
        ("b-admin@sweep.test", "org_admin", B),
        ("south-analyst@sweep.test", "consortium_analyst", "south-bay"),
        ("north-analyst@sweep.test", "consortium_analyst", "north-bay"),
        ("state@sweep.test", "state_analyst", "ca"),
        ("root@sweep.test", "system_admin", "ca"),
        ("cbo@sweep.test", "case_worker", "north-bay-cbo"),
        ("college@sweep.test", "case_worker", "north-bay-college"),
        ("library@sweep.test", "case_worker", "north-bay-library"),
    ] {
        add_user(&store, email, role, org).await;
    }
    let own_participant = store
        .search_participants(A, "", 1)
        .await
        .expect("search")
        .first()
        .expect("a participant of A")
        .participant_id
        .clone();
    let router = router(state);

    // B's objects, made through the router by B's case worker and org admin.
    let b_worker = Identity::sign_in(&router, "B case worker", "b-worker@sweep.test").await;
    let b_admin = Identity::sign_in(&router, "B org admin", "b-admin@sweep.test").await;
    let (mut b, _) = seed_participant(
        &router,
        &store,
        &b_worker,
        &Texts {
            pid: "nb-sweep-1",
            first: B_FIRST,
            last: B_LAST,
            need: B_NEED,
            goal: B_GOAL,
            purpose: B_PURPOSE,
            note: B_NOTE,
        },
    )
    .await;
    let (mut b2, library_consent) = seed_participant(
        &router,
        &store,
        &b_worker,
        &Texts {
            pid: "nb-sweep-2",
            first: B2_FIRST,
            last: B2_LAST,
            need: B2_NEED,
            goal: B2_GOAL,
            purpose: B2_PURPOSE,
            note: B2_NOTE,
        },
    )
    .await;
    let invited = b_admin
        .form(
            &router,
            "/admin/users",
            &format!("email=invitee%40north-bay.test&name={B_USER}&role=case_worker&org_id={B}"),
        )
        .await;
    assert_eq!(invited.status, StatusCode::OK, "{}", invited.body);
    b.invite = secret_after(&invited.body, "/welcome/");
    b2.invite = b.invite.clone();
    // The control participant's consent is the library's: its control revokes it, and the
    // consent to north-bay-cbo stays for the control referral.
    b2.consent = library_consent;
    b.user_id = store
        .user_by_email("b-worker@sweep.test")
        .await
        .expect("store")
        .expect("B's case worker")
        .id;
    b2.user_id = store
        .user_by_email("invitee@north-bay.test")
        .await
        .expect("store")
        .expect("the invitee")
        .id;
    let before = b_state(&store, &b).await;
    assert_eq!(before.pathway.items.len(), 2);
    assert_eq!(
        (before.pathway.milestones.len(), before.pathway.activities.len()),
        (1, 1)
    );
    assert!(before.pathway.assessments.is_empty());
    assert!(before.consents.iter().all(|c| c.active_on(iip_domain::Date::today())));
    assert_eq!(before.referral.status, ReferralStatus::Requested);
    assert!(before.link_open && before.invite_open);

    // A's side.
    let mut side_a = [
        Identity::anonymous(),
        Identity::sign_in(&router, SIDE_A[1], "a-worker@sweep.test").await,
        Identity::sign_in(&router, SIDE_A[2], "a-admin@sweep.test").await,
        Identity::sign_in(&router, SIDE_A[3], "south-analyst@sweep.test").await,
    ];
    // Ids of nothing at all, to compare B's 404s with.
    let absent = Objects {
        pid: "nb-sweep-absent".into(),
        consent: 987_654_321,
        referral: 987_654_321,
        user_id: 987_654_321,
        invite: "0".repeat(64),
        sa_token: "0".repeat(64),
    };
    let mut tally = Tally::default();
    for probe in &table {
        for (i, identity) in side_a.iter_mut().enumerate() {
            let uri = fill(probe, &b, &own_participant);
            let ctx = Ctx {
                csrf: &identity.csrf,
                tag: TAGS[i],
                objects: &b,
            };
            let reply = identity.send(&router, probe.method, &uri, payload(probe, &ctx)).await;
            tally.inspect(identity.label, probe.method, &uri, &reply, &[]);
            let expect = probe.expect[i];
            if !meets(expect, &uri, &reply) {
                tally.mismatch(format!(
                    "status: {} {} {uri} (policy {:?}) → {} {}, declared {expect:?}: {}",
                    identity.label,
                    probe.method,
                    probe.who,
                    reply.status,
                    reply.location,
                    excerpt(&reply.body)
                ));
            }
            // Another organization's object answers exactly as an object that does not exist.
            if reply.status == StatusCode::NOT_FOUND {
                let absent_uri = fill(probe, &absent, &own_participant);
                let ctx = Ctx {
                    csrf: &identity.csrf,
                    tag: TAGS[i],
                    objects: &absent,
                };
                let unknown = identity
                    .send(&router, probe.method, &absent_uri, payload(probe, &ctx))
                    .await;
                tally.compared += 1;
                tally.inspect(identity.label, probe.method, &absent_uri, &unknown, &[]);
                if unknown.status != reply.status || unknown.body != reply.body {
                    tally.mismatch(format!(
                        "existence oracle: {} {} {uri} → 404 differs from {absent_uri} → {}",
                        identity.label, probe.method, unknown.status
                    ));
                }
            }
            // Signing out ends the session: sign in again for the next routes.
            if probe.pattern == "/logout"
                && let Some(email) = identity.email
            {
                *identity = Identity::sign_in(&router, identity.label, email).await;
            }
        }
    }
    let swept = table.len() * side_a.len();
    let side_a_requests = tally.requests;

    // Wide roles and B's own consortium: GET every route with B's objects; no canary (but the
    // accounts a system admin manages), no 5xx, and no tenant object opens.
    let wide = [
        Identity::sign_in(&router, "state analyst", "state@sweep.test").await,
        Identity::sign_in(&router, "system admin", "root@sweep.test").await,
        Identity::sign_in(&router, "north-bay analyst", "north-analyst@sweep.test").await,
        Identity::sign_in(
            &router,
            "north-bay-college case worker (agreement, no consent)",
            "college@sweep.test",
        )
        .await,
        Identity::sign_in(
            &router,
            "north-bay-library case worker (consent, agreement ended)",
            "library@sweep.test",
        )
        .await,
    ];
    for probe in table.iter().filter(|p| p.method == "GET") {
        for identity in &wide {
            let uri = fill(probe, &b, &own_participant);
            let reply = identity.get(&router, &uri).await;
            let allowed: &[&str] = if probe.who == Who::Admins && identity.label == "system admin" {
                &[B_USER]
            } else {
                &[]
            };
            tally.inspect(identity.label, "GET", &uri, &reply, allowed);
            if probe.who.guards_objects() && probe.pattern.contains('{') && !matches!(reply.status.as_u16(), 403 | 404)
            {
                tally.mismatch(format!(
                    "status: {} GET {uri} (policy {:?}) → {}, declared 403 or 404",
                    identity.label, probe.who, reply.status
                ));
            }
        }
    }
    let wide_requests = tally.requests - side_a_requests;

    // Writes by A did not land: B's objects are as they were.
    let after = b_state(&store, &b).await;
    if after != before {
        tally.mismatch(format!("B's objects changed:\nbefore {before:#?}\nafter {after:#?}"));
    }
    // A's creations landed in A; those naming B landed nowhere.
    for tag in ["cw", "admin"] {
        for id in [format!("sweep-form-org-{tag}"), format!("sweep-api-org-{tag}")] {
            for org in [A, B] {
                if store.participant_record(org, &id).await.expect("store").is_some() {
                    tally.mismatch(format!(
                        "{id}: created in {org} although the request named another organization"
                    ));
                }
            }
        }
    }
    for tag in ["cw", "admin"] {
        for id in [format!("sweep-form-{tag}"), format!("sweep-api-{tag}")] {
            let in_a = store.participant_record(A, &id).await.expect("store").is_some();
            let in_b = store.participant_record(B, &id).await.expect("store").is_some();
            if !in_a || in_b {
                tally.mismatch(format!("{id}: in A {in_a}, in B {in_b}"));
            }
        }
    }
    for tag in TAGS {
        if store
            .user_by_email(&format!("intruder-{tag}@sweep.test"))
            .await
            .expect("store")
            .is_some()
        {
            tally.mismatch(format!("an account was created by {tag} in B"));
        }
    }

    // Positive controls: the same data does reach those the policy lets in.
    let control = |tally: &mut Tally, who: &str, what: &str, reply: &Reply, code: u16, must_show: &[&str]| {
        tally.controls += 1;
        let missing: Vec<&&str> = must_show.iter().filter(|c| !reply.body.contains(**c)).collect();
        if reply.status.as_u16() != code || !missing.is_empty() {
            tally.mismatch(format!(
                "control: {who} {what} → {} (expected {code}), missing {missing:?}: {}",
                reply.status,
                excerpt(&reply.body)
            ));
        }
    };
    let pathway = b_worker.get(&router, &format!("/participants/{}", b.pid)).await;
    control(
        &mut tally,
        "B case worker",
        "pathway",
        &pathway,
        200,
        &[B_FIRST, B_LAST, B_NEED, B_GOAL, B_PURPOSE],
    );
    let referral = b_worker.get(&router, &format!("/referrals/{}", b.referral)).await;
    control(&mut tally, "B case worker", "referral", &referral, 200, &[B_NOTE]);
    let found = b_worker.form(&router, "/participants/search", "q=CANARY").await;
    control(&mut tally, "B case worker", "search", &found, 200, &[B_FIRST, B2_FIRST]);
    let found = b_worker
        .send(
            &router,
            "POST",
            "/api/participants/search",
            Payload::Json(r#"{"q":"CANARY"}"#.into()),
        )
        .await;
    control(
        &mut tally,
        "B case worker",
        "API search",
        &found,
        200,
        &[B_FIRST, B2_FIRST],
    );
    let record = b_worker.get(&router, &format!("/api/participants/{}", b.pid)).await;
    control(
        &mut tally,
        "B case worker",
        "API record",
        &record,
        200,
        &[B_FIRST, B_NEED, B_GOAL],
    );
    let accounts = b_admin.get(&router, "/admin/users").await;
    control(&mut tally, "B org admin", "accounts", &accounts, 200, &[B_USER]);
    let cbo = Identity::sign_in(&router, "north-bay-cbo case worker", "cbo@sweep.test").await;
    let received = cbo.get(&router, &format!("/referrals/{}", b.referral)).await;
    control(
        &mut tally,
        "north-bay-cbo (consented partner)",
        "referral",
        &received,
        200,
        &[B_NOTE],
    );
    let shared = cbo.get(&router, &format!("/shared/{B}/{}", b.pid)).await;
    control(
        &mut tally,
        "north-bay-cbo (consented partner)",
        "shared record",
        &shared,
        200,
        &[B_FIRST, B_LAST, B_NEED, B_PURPOSE],
    );
    let south = &side_a[3];
    for page in ["/", "/metrics", "/gaps", "/referrals/metrics", "/api/metrics"] {
        let reply = south.get(&router, page).await;
        control(&mut tally, "south-bay analyst", page, &reply, 200, &[]);
        if CANARIES.iter().any(|c| reply.body.contains(c)) {
            tally.mismatch(format!("south-bay analyst {page}: a canary"));
        }
    }
    let metrics = south.get(&router, "/api/metrics").await;
    let json: serde_json::Value = serde_json::from_str(&metrics.body).expect("json");
    let scopes: BTreeSet<&str> = json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["scope_id"].as_str())
        .collect();
    if !scopes.contains("south-bay") || scopes.iter().any(|s| s.starts_with("north-bay")) {
        tally.mismatch(format!("south-bay analyst's scopes: {scopes:?}"));
    }

    // The requests of the sweep are valid: B's case worker, making them of B's control
    // participant, succeeds where A's side got 404.
    for probe in table.iter().filter(|p| p.owner.is_some()) {
        let uri = fill(probe, &b2, &own_participant);
        let ctx = Ctx {
            csrf: &b_worker.csrf,
            tag: "owner",
            objects: &b2,
        };
        let reply = b_worker.send(&router, probe.method, &uri, payload(probe, &ctx)).await;
        let code = probe.owner.expect("owner");
        control(
            &mut tally,
            "B case worker",
            &format!("{} {uri}", probe.method),
            &reply,
            code,
            &[],
        );
    }

    eprintln!("tenant sweep policy ({routes} routes):");
    let mut by_who: BTreeMap<Who, BTreeSet<String>> = BTreeMap::new();
    for probe in &table {
        by_who
            .entry(probe.who)
            .or_default()
            .insert(format!("{} {}", probe.method, probe.pattern));
    }
    for (who, routes) in &by_who {
        eprintln!(
            "  {} ({}): {}",
            who.describe(),
            routes.len(),
            routes.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    eprintln!(
        "tenant sweep: {routes} routes, {} probes × {} identities of A's side = {swept} requests, \
         + {} requests for absent ids (each of A's {} 404s byte-identical to an absent id's); \
         {wide_requests} GETs by {} wide/B-side roles; {} positive controls; \
         {} checked requests; 5xx seen = {}; foreign canaries seen = {}; status mismatches = {}",
        table.len(),
        side_a.len(),
        tally.compared,
        tally.compared,
        wide.len(),
        tally.controls,
        tally.requests + tally.controls,
        tally.server_errors,
        tally.canaries,
        tally.mismatches
    );
    assert!(tally.problems.is_empty(), "{}", tally.problems.join("\n"));
}
