//! The files and columns of exchange format v1.

#[derive(Debug)]
pub struct FileSpec {
    pub name: &'static str,
    pub columns: &'static [Column],
}

#[derive(Debug)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
    /// Identifying fields: their values are never repeated in messages.
    pub identifying: bool,
}

const fn req(name: &'static str) -> Column {
    Column {
        name,
        required: true,
        identifying: false,
    }
}
const fn opt(name: &'static str) -> Column {
    Column {
        name,
        required: false,
        identifying: false,
    }
}
const fn secret(name: &'static str) -> Column {
    Column {
        name,
        required: false,
        identifying: true,
    }
}

pub const ORGANIZATIONS: FileSpec = FileSpec {
    name: "organizations.csv",
    columns: &[
        req("org_id"),
        req("name"),
        req("sector"),
        req("level"),
        opt("parent_id"),
        opt("area"),
        opt("areas_served"),
    ],
};

/// Agreements between organizations (optional file): referral partnerships, data-sharing
/// agreements, funding relationships.
pub const PARTNERSHIPS: FileSpec = FileSpec {
    name: "partnerships.csv",
    columns: &[
        req("partnership_id"),
        req("org_id"),
        req("partner_org_id"),
        req("kind"),
        opt("scope"),
        req("start_date"),
        opt("end_date"),
    ],
};

pub const PARTICIPANTS: FileSpec = FileSpec {
    name: "participants.csv",
    columns: &[
        req("org_id"),
        req("participant_id"),
        opt("person_key"),
        secret("first_name"),
        secret("last_name"),
        secret("date_of_birth"),
        opt("gender"),
        opt("race_ethnicity"),
        opt("country_of_birth"),
        opt("primary_language"),
        opt("us_arrival_year"),
        opt("zip"),
        opt("barriers"),
    ],
};

pub const ACTIVITIES: FileSpec = FileSpec {
    name: "activities.csv",
    columns: &[
        req("org_id"),
        req("participant_id"),
        req("date"),
        req("program"),
        req("hours"),
        opt("element"),
    ],
};

pub const MILESTONES: FileSpec = FileSpec {
    name: "milestones.csv",
    columns: &[req("org_id"), req("participant_id"), req("date"), req("milestone")],
};

pub const ASSESSMENTS: FileSpec = FileSpec {
    name: "assessments.csv",
    columns: &[
        req("org_id"),
        req("participant_id"),
        req("date"),
        req("instrument"),
        req("score"),
    ],
};

/// Every file, in the order an import reads them (parents before children).
pub const FILES: [&FileSpec; 6] = [
    &ORGANIZATIONS,
    &PARTNERSHIPS,
    &PARTICIPANTS,
    &ACTIVITIES,
    &MILESTONES,
    &ASSESSMENTS,
];

pub fn file_spec(name: &str) -> Option<&'static FileSpec> {
    FILES.iter().copied().find(|f| f.name == name)
}

impl FileSpec {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn header(&self) -> Vec<&'static str> {
        self.columns.iter().map(|c| c.name).collect()
    }
}
