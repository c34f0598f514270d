//! The closed vocabularies of the exchange format (PRODUCT.md §4).

use crate::InvalidValue;

/// Declares an enum whose variants are written as fixed lower-case codes.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
                match raw {
                    $($code => Ok($name::$variant),)+
                    other => Err(InvalidValue::new(format!(
                        "{other:?} is not one of: {}",
                        [$($code),+].join(", ")
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

code_enum!(
    /// The kind of actor an organization is (the seed's horizontal axis).
    Sector {
        Public = "public",
        Nonprofit = "nonprofit",
        FaithBased = "faith_based",
        Education = "education",
        Business = "business",
        Philanthropy = "philanthropy",
    }
);

code_enum!(
    /// The level of government or territory an organization works at (the vertical axis).
    Level {
        Federal = "federal",
        State = "state",
        Region = "region",
        County = "county",
        City = "city",
        Local = "local",
    }
);

code_enum!(Gender {
    Female = "female",
    Male = "male",
    Nonbinary = "nonbinary",
});

code_enum!(RaceEthnicity {
    Asian = "asian",
    Black = "black",
    Filipino = "filipino",
    Hispanic = "hispanic",
    NativeAmerican = "native_american",
    PacificIslander = "pacific_islander",
    White = "white",
    Multiple = "multiple",
});

code_enum!(
    /// Program areas, after the CAEP program areas plus citizenship and EL Civics.
    Program {
        Esl = "esl",
        Abe = "abe",
        Ase = "ase",
        Cte = "cte",
        Citizenship = "citizenship",
        ElCivics = "el_civics",
        Workforce = "workforce",
        Other = "other",
    }
);

code_enum!(
    /// CAEP barrier groups.
    Barrier {
        EnglishLearner = "english_learner",
        LowIncome = "low_income",
        LowLiteracy = "low_literacy",
        CulturalBarriers = "cultural_barriers",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for sector in Sector::ALL {
            assert_eq!(Sector::parse(sector.as_str()), Ok(*sector));
        }
        for program in Program::ALL {
            assert_eq!(Program::parse(program.as_str()), Ok(*program));
        }
    }

    #[test]
    fn unknown_codes_list_the_choices() {
        let err = Level::parse("town").expect_err("not a level");
        assert!(err.0.contains("federal, state, region, county, city, local"), "{err}");
        assert!(Gender::parse("Female").is_err(), "codes are case-sensitive");
    }
}
