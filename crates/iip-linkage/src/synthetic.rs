//! Generated linkage test data: people with names from a head of common names of the
//! communities IIP serves and a long tail of rarer ones, and the errors partners make. The
//! same seed gives the same records; the quality test and `iip bench-linkage` both use it.

use crate::Identity;

/// SplitMix64: the same records on every run.
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 10_000) as f64 / 10_000.0 < p
    }
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }
}

const GIVEN: &[&str] = &[
    "María",
    "José",
    "Juan",
    "Guadalupe",
    "Luis",
    "Ana",
    "Carlos",
    "Rosa",
    "Miguel",
    "Lucía",
    "Thi",
    "Van",
    "Lan",
    "Minh",
    "Huong",
    "Tuan",
    "Linh",
    "Wei",
    "Li",
    "Jing",
    "Hao",
    "Mei",
    "Jun",
    "Maria Cristina",
    "Jose Luis",
    "Rodel",
    "Marites",
    "Jocelyn",
    "Arnel",
    "Fatima",
    "Ahmad",
    "Omar",
    "Aisha",
    "Yusuf",
    "Mariam",
    "Hamid",
    "Olena",
    "Andriy",
    "Iryna",
    "Dmytro",
    "Priya",
    "Arjun",
    "Sunita",
    "Ravi",
    "Amina",
    "Kwame",
    "Chinwe",
    "Tesfaye",
    "Sofía",
    "Diego",
    "Valentina",
    "Mateo",
    "Camila",
    "Alejandro",
    "Ximena",
    "Duc",
    "Phuong",
    "Quang",
    "Xiu",
    "Bao",
];
const FAMILY: &[&str] = &[
    "García",
    "Hernández",
    "López",
    "Martínez",
    "González",
    "Rodríguez",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Flores",
    "Nguyen",
    "Tran",
    "Le",
    "Pham",
    "Hoang",
    "Vu",
    "Dang",
    "Bui",
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Santos",
    "Reyes",
    "Cruz",
    "Bautista",
    "Ocampo",
    "Dela Cruz",
    "Mendoza",
    "Hussein",
    "Ahmadi",
    "Haddad",
    "Khan",
    "Rahimi",
    "Shevchenko",
    "Kovalenko",
    "Bondarenko",
    "Patel",
    "Singh",
    "Sharma",
    "Okafor",
    "Mensah",
    "Abebe",
    "Torres",
    "Morales",
    "Ortiz",
    "Castillo",
    "Romero",
    "Vargas",
    "Jiménez",
    "Ruiz",
    "Álvarez",
    "Castro",
    "Vásquez",
    "Gutiérrez",
    "Chávez",
    "Ramos",
];

const SYLLABLES: &[&str] = &[
    "ka", "ro", "mi", "na", "to", "le", "sa", "vi", "du", "ha", "lo", "ri", "ban", "tan", "zel", "mar", "quin", "dor",
    "al", "es", "ur", "ton", "vel", "shi", "ko", "ya", "be", "ne", "cha", "lu",
];

/// A long tail of rarer names besides the common ones, as in a real roster.
fn rare_name(rng: &mut Rng) -> String {
    let parts = 2 + rng.below(2);
    let mut name: String = (0..parts).map(|_| rng.pick(SYLLABLES)).collect();
    if let Some(first) = name.get(..1) {
        name = first.to_uppercase() + &name[1..];
    }
    name
}

pub fn person(rng: &mut Rng) -> Identity {
    let mut last = if rng.chance(0.4) {
        rare_name(rng)
    } else {
        rng.pick(FAMILY).to_owned()
    };
    if rng.chance(0.3) {
        last = format!("{last} {}", rng.pick(FAMILY));
    }
    let year = 1950 + rng.below(55);
    let (month, day) = (1 + rng.below(12), 1 + rng.below(28));
    Identity {
        first_name: Some(if rng.chance(0.3) {
            rare_name(rng)
        } else {
            rng.pick(GIVEN).to_owned()
        }),
        last_name: Some(last),
        date_of_birth: Some(format!("{year:04}-{month:02}-{day:02}")),
    }
}

/// The errors partners make, at rates like FEBRL's: a typo in the family name (12 %) or the
/// given name (10 %), given and family names swapped (5 %), a second surname dropped (30 % of
/// those who have one), day and month swapped or the day off by one (10 %), no birth date (2 %).
pub fn corrupt(rng: &mut Rng, p: &Identity) -> Identity {
    let mut out = p.clone();
    let typo = |rng: &mut Rng, name: &str| {
        let mut chars: Vec<char> = name.chars().collect();
        if chars.len() < 3 {
            return name.to_owned();
        }
        let at = 1 + rng.below(chars.len() - 2);
        match rng.below(3) {
            0 => {
                chars.remove(at);
            }
            1 => chars.insert(at, 'a'),
            _ => chars.swap(at, at - 1),
        }
        chars.into_iter().collect()
    };
    if rng.chance(0.12) {
        out.last_name = out.last_name.map(|n| typo(rng, &n));
    }
    if rng.chance(0.10) {
        out.first_name = out.first_name.map(|n| typo(rng, &n));
    }
    if rng.chance(0.05) {
        std::mem::swap(&mut out.first_name, &mut out.last_name);
    }
    if rng.chance(0.3) {
        // A dropped second surname (when there is one).
        out.last_name = out
            .last_name
            .map(|n| n.split(' ').next().unwrap_or_default().to_owned());
    }
    if rng.chance(0.10)
        && let Some(d) = &out.date_of_birth
    {
        let (y, m, dd) = (&d[..4], &d[5..7], &d[8..10]);
        out.date_of_birth = Some(if rng.chance(0.5) && dd.parse::<u32>().unwrap_or(13) <= 12 {
            format!("{y}-{dd}-{m}")
        } else {
            let day: u32 = dd.parse().unwrap_or(1);
            format!("{y}-{m}-{:02}", if day > 1 { day - 1 } else { day + 1 })
        });
    }
    if rng.chance(0.02) {
        out.date_of_birth = None;
    }
    out
}

/// Two sides of `n` records each; the first `overlap` of each are the same people (the right
/// side's with errors), the rest are different people.
pub fn world(seed: u64, n: usize, overlap: usize) -> (Vec<Identity>, Vec<Identity>) {
    let mut rng = Rng(seed);
    let shared: Vec<Identity> = (0..overlap).map(|_| person(&mut rng)).collect();
    let mut left: Vec<Identity> = shared.clone();
    left.extend((0..n - overlap).map(|_| person(&mut rng)));
    let mut right: Vec<Identity> = shared.iter().map(|p| corrupt(&mut rng, p)).collect();
    right.extend((0..n - overlap).map(|_| person(&mut rng)));
    (left, right)
}
