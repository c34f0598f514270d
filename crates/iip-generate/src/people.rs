//! Countries of birth and names, weighted roughly like newcomers served in California.
//! Every name here is common and invented pairings are synthetic: no real person is described.

pub struct Country {
    pub code: &'static str,
    pub language: &'static str,
    pub race: &'static str,
    pub weight: u32,
}

pub const COUNTRIES: &[Country] = &[
    Country {
        code: "MX",
        language: "es",
        race: "hispanic",
        weight: 30,
    },
    Country {
        code: "SV",
        language: "es",
        race: "hispanic",
        weight: 6,
    },
    Country {
        code: "GT",
        language: "es",
        race: "hispanic",
        weight: 5,
    },
    Country {
        code: "HN",
        language: "es",
        race: "hispanic",
        weight: 3,
    },
    Country {
        code: "VE",
        language: "es",
        race: "hispanic",
        weight: 2,
    },
    Country {
        code: "VN",
        language: "vi",
        race: "asian",
        weight: 10,
    },
    Country {
        code: "CN",
        language: "zh",
        race: "asian",
        weight: 8,
    },
    Country {
        code: "PH",
        language: "tl",
        race: "filipino",
        weight: 8,
    },
    Country {
        code: "IN",
        language: "hi",
        race: "asian",
        weight: 6,
    },
    Country {
        code: "KR",
        language: "ko",
        race: "asian",
        weight: 3,
    },
    Country {
        code: "AF",
        language: "fa",
        race: "asian",
        weight: 3,
    },
    Country {
        code: "IR",
        language: "fa",
        race: "white",
        weight: 2,
    },
    Country {
        code: "UA",
        language: "uk",
        race: "white",
        weight: 3,
    },
    Country {
        code: "RU",
        language: "ru",
        race: "white",
        weight: 2,
    },
    Country {
        code: "ET",
        language: "am",
        race: "black",
        weight: 2,
    },
    Country {
        code: "ER",
        language: "ti",
        race: "black",
        weight: 1,
    },
    Country {
        code: "BR",
        language: "pt",
        race: "multiple",
        weight: 2,
    },
    Country {
        code: "TO",
        language: "to",
        race: "pacific_islander",
        weight: 1,
    },
];

type Pools = &'static [(&'static str, &'static [&'static str])];

pub const FIRST_NAMES: Pools = &[
    (
        "es",
        &[
            "María",
            "José",
            "Guadalupe",
            "Juan",
            "Rosa",
            "Luis",
            "Ana",
            "Carlos",
            "Sofía",
            "Miguel",
        ],
    ),
    ("vi", &["Minh", "Linh", "Thao", "Huy", "Lan", "Tuan", "Mai", "Duc"]),
    ("zh", &["Wei", "Fang", "Jing", "Lei", "Min", "Hui", "Yan", "Tao"]),
    ("tl", &["Maricel", "Jose", "Rowena", "Arnel", "Liza", "Ramon"]),
    ("hi", &["Priya", "Amit", "Sunita", "Rahul", "Anjali", "Vikram"]),
    ("fa", &["Fatima", "Ahmad", "Zahra", "Mohammad", "Maryam", "Ali"]),
    ("uk", &["Olena", "Andrii", "Iryna", "Oleksandr"]),
];

pub const LAST_NAMES: Pools = &[
    (
        "es",
        &[
            "García",
            "Hernández",
            "López",
            "Martínez",
            "González",
            "Rodríguez",
            "Pérez",
            "Sánchez",
        ],
    ),
    ("vi", &["Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu"]),
    ("zh", &["Wang", "Li", "Zhang", "Liu", "Chen", "Huang"]),
    ("tl", &["Santos", "Reyes", "Cruz", "Bautista", "Garcia"]),
    ("hi", &["Patel", "Sharma", "Singh", "Kumar"]),
    ("fa", &["Ahmadi", "Hosseini", "Rahimi", "Karimi"]),
    ("uk", &["Shevchenko", "Kovalenko", "Bondarenko"]),
];
