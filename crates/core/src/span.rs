//! Lengths of time as contracts write them: "8 business hours", "1 business day", "15 minutes".
//!
//! A span is whole seconds plus a flag saying whether it counts business time (on a calendar)
//! or clock time. One business day is 24 business hours (docs/contract.md), so "1 business day" on a
//! Monday–Friday calendar is 24 hours of that calendar's open time.

use std::fmt;

/// A length of time from a contract file: whole seconds, counted as business or clock time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// Length in seconds (of business time when `business` is set).
    pub seconds: i64,
    /// Counted on a calendar's open time rather than on the wall clock.
    pub business: bool,
}

/// Why a span could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {text:?}: {reason} (write e.g. \"4 hours\", \"8 business hours\", \"1 business day\", \"15 minutes\", \"30 seconds\")"
)]
pub struct SpanError {
    /// The text that was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// The longest span accepted: 10 years, far beyond any support promise, small enough that
/// instant arithmetic never overflows.
pub const MAX_SPAN_SECONDS: i64 = 10 * 366 * 86_400;

const UNITS: [(&str, &str, i64); 4] =
    [("day", "days", 86_400), ("hour", "hours", 3_600), ("minute", "minutes", 60), ("second", "seconds", 1)];

impl Span {
    /// Clock time of `seconds`.
    pub fn clock(seconds: i64) -> Span {
        Span { seconds, business: false }
    }

    /// Reads "N [business] unit [N unit …]", units being day(s), hour(s), minute(s), second(s).
    /// "business" may appear once, after the first number, and then covers the whole span.
    pub fn parse(text: &str) -> Result<Span, SpanError> {
        let err = |reason| SpanError { text: text.to_string(), reason };
        let mut words = text.split_whitespace().peekable();
        if words.peek().is_none() {
            return Err(err("it is empty"));
        }
        let mut seconds: i64 = 0;
        let mut business = false;
        let mut first = true;
        let mut last_unit = usize::MAX;
        while let Some(number) = words.next() {
            if number.starts_with('-') {
                return Err(err("durations cannot be negative"));
            }
            let n: i64 = number.parse().map_err(|_| err("expected a whole number before each unit"))?;
            let mut unit = words.next().ok_or_else(|| err("a number needs a unit"))?;
            if unit == "business" {
                if !first {
                    return Err(err("\"business\" goes once, after the first number"));
                }
                business = true;
                unit = words.next().ok_or_else(|| err("\"business\" needs a unit"))?;
            }
            let index = UNITS
                .iter()
                .position(|(one, many, _)| unit == *one || unit == *many)
                .ok_or_else(|| err("unknown unit; use days, hours, minutes or seconds"))?;
            if last_unit != usize::MAX && index <= last_unit {
                return Err(err("units must go from largest to smallest, each once"));
            }
            last_unit = index;
            seconds = n
                .checked_mul(UNITS[index].2)
                .and_then(|s| s.checked_add(seconds))
                .filter(|s| *s <= MAX_SPAN_SECONDS)
                .ok_or_else(|| err("it is longer than 10 years"))?;
            first = false;
        }
        Ok(Span { seconds, business })
    }
}

impl fmt::Display for Span {
    /// Canonical text: the largest unit that divides the span exactly ("40 business hours",
    /// "90 minutes", "1 business day"), "business" after the number when set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let business = if self.business { "business " } else { "" };
        let (one, many, size) = if self.seconds == 0 {
            UNITS[2]
        } else {
            *UNITS.iter().find(|(_, _, size)| self.seconds % size == 0).expect("seconds divide everything")
        };
        let n = self.seconds / size;
        write!(f, "{n} {business}{}", if n == 1 { one } else { many })
    }
}

impl serde::Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        let text = String::deserialize(d)?;
        Span::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_contract_wordings() {
        let cases = [
            ("4 hours", 4 * 3600, false),
            ("8 business hours", 8 * 3600, true),
            ("1 business day", 86_400, true),
            ("2 business days", 2 * 86_400, true),
            ("15 minutes", 900, false),
            ("30 seconds", 30, false),
            ("1 hour 30 minutes", 5400, false),
            ("0 minutes", 0, false),
        ];
        for (text, seconds, business) in cases {
            assert_eq!(Span::parse(text), Ok(Span { seconds, business }), "{text}");
        }
    }

    #[test]
    fn prints_canonically() {
        for text in [
            "4 hours",
            "8 business hours",
            "1 business day",
            "40 business hours",
            "90 minutes",
            "0 minutes",
            "65 seconds",
        ] {
            assert_eq!(Span::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Span::parse("24 hours").unwrap().to_string(), "1 day");
        assert_eq!(Span::parse("1 hour 30 minutes").unwrap().to_string(), "90 minutes");
    }

    #[test]
    fn rejects_what_is_not_a_span() {
        for text in [
            "",
            "4",
            "four hours",
            "-1 hours",
            "4 fortnights",
            "1 minute 1 hour",
            "1 hour 2 business minutes",
            "business 4 hours",
            "99999999999 days",
            "1 hour 1 hour",
        ] {
            assert!(Span::parse(text).is_err(), "{text:?} was accepted");
        }
    }
}
