//! Table of Postfix message shapes with the event each must give.

use super::*;
use chrono::NaiveDate;

fn ts() -> Timestamp {
    Timestamp::new(
        NaiveDate::from_ymd_opt(2026, 11, 27)
            .unwrap()
            .and_hms_opt(10, 0, 1)
            .unwrap(),
        None,
    )
}

#[test]
fn delivery_line_smoke() {
    let e = parse(
        ts(),
        "postfix/smtp",
        "4Q2Xk05Lyz1Wq: to=<bob@example.net>, relay=mx.example.net[192.0.2.5]:25, delay=1.2, delays=0.1/0.01/0.4/0.7, dsn=2.0.0, status=sent (250 2.0.0 OK)",
    )
    .unwrap();
    assert_eq!(e.kind, Kind::Delivered);
}
