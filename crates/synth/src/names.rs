//! Static material: names, words, subjects.

pub(crate) const FIRST: &[&str] = &[
    "anna", "ben", "carla", "david", "elena", "felix", "grace", "hugo", "irene", "jack", "karin",
    "leo", "maria", "nina", "oscar", "paula", "quentin", "rosa", "sam", "tina", "ugo", "vera",
    "will", "xenia", "yusuf", "zoe", "ahmed", "bea", "chen", "diego", "emma", "farah", "george",
    "hana", "ivan", "julia", "kofi", "lena", "marco", "noor", "olga", "pedro", "rita", "tom",
];
pub(crate) const LAST: &[&str] = &[
    "smith", "jones", "garcia", "muller", "rossi", "dubois", "novak", "khan", "silva", "kim",
    "nguyen", "ivanova", "brown", "lopez", "wilson", "tanaka", "olsen", "costa", "weber", "murphy",
    "berg", "cohen", "fischer", "hill", "kowalski", "lee", "moreau", "patel", "reyes", "dalton",
    "meyer", "okafor", "santos", "walsh",
];
pub(crate) const BIZ: &[&str] = &[
    "bakery",
    "florist",
    "dental",
    "autorepair",
    "lawfirm",
    "yoga",
    "bikeshop",
    "books",
    "cafe",
    "plumbing",
    "realty",
    "travel",
    "printshop",
    "vetclinic",
    "photo",
    "school",
    "chapel",
    "fitness",
    "hotel",
    "winery",
    "brewery",
    "garden",
    "petcare",
    "salon",
    "tailor",
    "music",
    "kidsclub",
    "farm",
    "physio",
    "design",
    "itservice",
    "solar",
    "roofing",
    "cleaning",
    "catering",
    "optics",
    "pharmacy",
    "studio",
    "media",
    "events",
    "shop",
    "crafts",
    "toys",
];
pub(crate) const PLACE: &[&str] = &[
    "", "north", "south", "city", "green", "lake", "hill", "river", "old", "new", "central", "bay",
    "park", "star", "sun",
];
pub(crate) const TLDS: &[&str] = &["example", "example.com", "example.net", "example.org"];
pub(crate) const ROLES: &[&str] = &[
    "info", "sales", "office", "admin", "contact", "orders", "billing", "support", "hello", "team",
    "bookings", "news",
];
pub(crate) const WORDS: &[&str] = &[
    "acme", "blue", "cedar", "delta", "ember", "fjord", "globe", "harbor", "iris", "jade", "kite",
    "lumen", "maple", "nova", "orbit", "pine", "quartz", "rapid", "sierra", "terra", "umber",
    "vista", "willow", "xylo", "yonder", "zephyr", "alder", "birch", "coral", "dune",
];
pub(crate) const SUBJECTS: &[&str] = &[
    "Invoice",
    "Re: Meeting on Thursday",
    "Your order has shipped",
    "Quote request",
    "Fwd: contract draft",
    "Payment reminder",
    "Weekly newsletter",
    "Re: Re: holiday schedule",
    "Booking confirmation",
    "Password reset",
    "Minutes of the committee meeting",
    "New price list",
    "Re: question about your service",
    "Delivery note",
    "Happy birthday!",
    "Monthly report",
    "Re: Catering for Saturday",
    "Welcome to our community",
    "Appointment reminder",
    "Re: Photos from the trip",
    "Statement of account",
    "Special offer this week",
    "Re: Job application",
    "Survey: how did we do?",
];
pub(crate) const SPRAY_SUBJECTS: &[&str] = &[
    "Payment reminder",
    "Invoice overdue",
    "Your account needs attention",
    "Document shared with you",
];
pub(crate) const HELOS: &[&str] = &[
    "DESKTOP-7Q2KJ3L",
    "User",
    "WIN-4F1C0KQ2",
    "localhost",
    "laptop",
];
pub(crate) const MON: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
pub(crate) const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
