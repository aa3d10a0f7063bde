//! Whose clock counts: CloudFormation's. It gives up on an event at the moment it sent the event plus
//! `ServiceTimeout`, however long the event then waited in Lambda's asynchronous queue (up to six hours while
//! the function is throttled, for example by its reserved concurrency). The function does not see that moment
//! directly, but the ResponseURL carries it: CloudFormation presigns the URL when it sends the event.
//!
//! - SigV4 (today's URLs): `X-Amz-Date=YYYYMMDDTHHMMSSZ` is the signing time.
//! - SigV2 (older URLs): only `Expires` (epoch seconds) is there; CloudFormation signs for two hours, so the
//!   signing time is taken as `Expires` less two hours.
//! - Neither (a hand-made event, a test): the first invocation's own start, as before.
//!
//! A signing time later than the function's own clock (skew) counts as now: the chain never believes it has
//! more time than it would without the URL.

/// How long CloudFormation's presigned ResponseURLs are valid.
pub const URL_VALIDITY_S: u64 = 7200;

/// When CloudFormation signed `url` (epoch ms), if the URL says; never later than `now_ms`.
pub fn signed_at_ms(url: &str, now_ms: u64) -> Option<u64> {
    let parsed = url::Url::parse(url).ok()?;
    let mut amz_date = None;
    let mut expires = None;
    for (k, v) in parsed.query_pairs() {
        if k.eq_ignore_ascii_case("X-Amz-Date") {
            amz_date = Some(v.into_owned());
        } else if k == "Expires" {
            expires = Some(v.into_owned());
        }
    }
    let signed = match (amz_date, expires) {
        (Some(d), _) => amz_date_ms(&d)?,
        (None, Some(e)) => e.parse::<u64>().ok()?.checked_sub(URL_VALIDITY_S)?.checked_mul(1000)?,
        (None, None) => return None,
    };
    Some(signed.min(now_ms))
}

/// `YYYYMMDDTHHMMSSZ` (SigV4's basic ISO 8601 form) as epoch milliseconds.
pub fn amz_date_ms(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let part = s.get(r)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year as i64, month as i64, day as i64);
    let secs = u64::try_from(days).ok()? * 86_400 + hour * 3600 + minute * 60 + second;
    Some(secs * 1000)
}

/// Epoch milliseconds as `X-Amz-Date` writes them (`YYYYMMDDTHHMMSSZ`, UTC): the inverse of [`amz_date_ms`]'s
/// reading, also the time in a run report's keys, which then sort by time.
pub fn amz_date(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// How long before the give-up time an event must arrive for its first invocation to start work: a run
/// shorter than this could be cut off between a write and its answer. A quarter of the event's whole window,
/// between half a second and five seconds: `X-Amz-Date` has whole seconds, so an event is taken as up to a
/// second older than it is, and a `ServiceTimeout` of a few seconds must still leave its event a run.
pub fn min_first_run_ms(started_ms: u64, give_up_at_ms: u64) -> u64 {
    (give_up_at_ms.saturating_sub(started_ms) / 4).clamp(500, 5_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    #[test]
    fn sigv4_dates_read_as_epoch_milliseconds() {
        assert_eq!(amz_date_ms("19700101T000000Z"), Some(0));
        assert_eq!(amz_date_ms("20261201T231238Z"), Some(1_796_166_758_000));
        assert_eq!(amz_date_ms("20240229T120000Z"), Some(1_709_208_000_000), "a leap day");
        assert_eq!(amz_date_ms("20250301T000000Z"), Some(1_740_787_200_000), "the day after February in a common year");
        assert_eq!(amz_date_ms("21000301T000000Z"), Some(4_107_542_400_000), "2100 is not a leap year");
        for bad in [
            "",
            "20261201T231238",
            "20261201 231238Z",
            "2026120XT231238Z",
            "20261301T000000Z",
            "20261200T000000Z",
            "20261201T240000Z",
            "20261201T236000Z",
            "19691231T235959Z",
            "+0261201T231238Z",
        ] {
            assert_eq!(amz_date_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_are_written_as_they_are_read_every_day_of_four_centuries_and_every_second_of_one() {
        for day in (0..146_097u64 * 4).step_by(7).chain([11_016, 11_017, 11_381]) {
            let ms = day * 86_400_000 + 45_296_000;
            assert_eq!(amz_date_ms(&amz_date(ms)), Some(ms), "day {day}: {}", amz_date(ms));
        }
        for s in 0..86_400u64 {
            assert_eq!(amz_date_ms(&amz_date(s * 1000 + 999)), Some(s * 1000), "milliseconds are dropped");
        }
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(951_782_400_000), "20000229T000000Z", "a leap day");
        assert_eq!(amz_date(1_796_166_758_000), "20261201T231238Z");
    }

    #[test]
    fn the_signing_time_comes_from_the_url_and_is_never_later_than_now() {
        let v4 = "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261201T231238Z&X-Amz-Expires=7200&X-Amz-Signature=abc";
        assert_eq!(signed_at_ms(v4, 1_796_170_000_000), Some(1_796_166_758_000));
        assert_eq!(signed_at_ms(v4, 1_796_166_000_000), Some(1_796_166_000_000), "a URL signed ahead of our clock counts as now");
        let lower = "https://b/k?x-amz-date=20261201T231238Z";
        assert_eq!(signed_at_ms(lower, NOW), Some(1_796_166_758_000), "the parameter's name in any case");
        let v2 = "https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIA&Expires=1796174000&Signature=x";
        assert_eq!(signed_at_ms(v2, NOW), Some((1_796_174_000 - 7200) * 1000), "SigV2: Expires less the two hours signed for");
        assert_eq!(signed_at_ms("https://b/k?Expires=100", NOW), None, "an Expires before the two hours is no time");
        assert_eq!(signed_at_ms("https://b/k?Expires=soon", NOW), None);
        assert_eq!(signed_at_ms("https://b/k?X-Amz-Date=yesterday&Expires=1796174000", NOW), None, "a SigV4 date that is not one");
        assert_eq!(signed_at_ms("https://b/k?X-Amz-Signature=abc", NOW), None);
        assert_eq!(signed_at_ms("not a url", NOW), None);
    }

    #[test]
    fn the_first_run_needs_a_quarter_of_its_window_between_half_a_second_and_five() {
        assert_eq!(min_first_run_ms(NOW, NOW + 3_540_000), 5_000);
        assert_eq!(min_first_run_ms(NOW, NOW + 20_004), 5_000);
        assert_eq!(min_first_run_ms(NOW, NOW + 6_000), 1_500);
        assert_eq!(min_first_run_ms(NOW, NOW + 2_000), 500, "ServiceTimeout 4: two seconds of work");
        assert_eq!(min_first_run_ms(NOW, NOW), 500);
    }
}

#[cfg(test)]
mod template {
    /// Lambda itself drops what CloudFormation no longer waits for (an hour at most), and retries nothing.
    #[test]
    fn template_yaml_drops_events_older_than_cloudformation_waits() {
        let t = include_str!("../../template.yaml");
        let at = t.find("Type: AWS::Lambda::EventInvokeConfig").expect("an EventInvokeConfig");
        let block: Vec<&str> = t[at..].lines().skip(1).take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
        assert!(block.contains(&"FunctionName: !Ref ConnectUserFunction") && block.contains(&"Qualifier: $LATEST"), "{block:?}");
        assert!(block.contains(&"MaximumRetryAttempts: 0") && block.contains(&"MaximumEventAgeInSeconds: 3600"), "{block:?}");
    }
}
