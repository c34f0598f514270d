//! One file of a package checked on its own, without a store: its header, every row's shape
//! and every field. Relations between files (a participant's organization, a parent) need the
//! whole package and are the importer's. Used to vet an upload before it is saved, and by the
//! fuzz target `csv_file` (fuzz/), which feeds it arbitrary bytes.

use iip_domain::Date;
use iip_framework::Framework;

use crate::issue::Issue;
use crate::parse::{self, TableRow};
use crate::reader::{NextRow, Table};
use crate::spec::FileSpec;

/// Every problem of `bytes` read as the package file `spec`, in line order.
pub fn check_file(spec: &'static FileSpec, bytes: &[u8], today: Date, framework: &Framework) -> Vec<Issue> {
    let mut table = match Table::from_reader(Box::new(std::io::Cursor::new(bytes.to_vec())), spec) {
        Ok(table) => table,
        Err(issues) => return issues,
    };
    let mut issues = Vec::new();
    loop {
        let row = match table.next_row() {
            Ok(NextRow::Row(row)) => row,
            Ok(NextRow::Unreadable { issue, .. }) => {
                issues.push(issue);
                continue;
            }
            Ok(NextRow::End) => break,
            Err(issue) => {
                issues.push(issue);
                break;
            }
        };
        let source = TableRow(&table, &row);
        let errors = match spec.name {
            "organizations.csv" => parse::organization(&source, today).err(),
            "partnerships.csv" => parse::partnership(&source, today).err(),
            "participants.csv" => parse::participant(&source, today).err(),
            "activities.csv" => parse::activity(&source, today, framework).err(),
            "milestones.csv" => parse::milestone(&source, today, framework).err(),
            _ => parse::assessment(&source, today).err(),
        };
        for (column, message) in errors.unwrap_or_default() {
            issues.push(Issue::at(
                spec.name,
                row.line,
                (!column.is_empty()).then_some(column),
                message,
            ));
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;

    fn issues(spec: &'static FileSpec, text: &str) -> Vec<String> {
        let framework = Framework::builtin().expect("framework");
        let today = Date::from_ymd(2026, 11, 24).expect("date");
        check_file(spec, text.as_bytes(), today, &framework)
            .iter()
            .map(|i| i.to_string())
            .collect()
    }

    #[test]
    fn a_clean_file_has_no_issue_and_each_problem_names_its_line_and_column() {
        assert!(
            issues(
                &spec::ACTIVITIES,
                "org_id,participant_id,date,program,hours\na,p1,2024-09-01,esl,3\n"
            )
            .is_empty()
        );
        let found = issues(
            &spec::ACTIVITIES,
            "org_id,participant_id,date,program,hours\na,p1,2024-13-01,esl,3\na,p2,2024-09-01,esl\n",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("activities.csv:2") && found[0].contains("date"),
            "{found:?}"
        );
        assert!(found[1].contains("activities.csv:3"), "{found:?}");
        let header = issues(&spec::PARTICIPANTS, "org_id,shoe_size\n");
        assert!(header.iter().any(|i| i.contains("shoe_size")), "{header:?}");
        assert!(!issues(&spec::ORGANIZATIONS, "\u{0}\u{ff}\n\"").is_empty());
        // Partnerships are checked as partnerships, not as some other file.
        let header = "partnership_id,org_id,partner_org_id,kind,scope,start_date,end_date\n";
        assert!(issues(&spec::PARTNERSHIPS, &format!("{header}ag1,a,b,referral,,2024-01-01,\n")).is_empty());
        assert_eq!(
            issues(&spec::PARTNERSHIPS, &format!("{header}ag1,a,a,referral,,2024-01-01,\n")),
            ["partnerships.csv:2: partner_org_id: an organization cannot partner with itself"]
        );
    }
}
