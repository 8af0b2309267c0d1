//! Dates with a precision, written as compact strings.
//!
//! | precision  | text form      | meaning                          |
//! |------------|----------------|----------------------------------|
//! | exact      | `2023-07-17`   | that day                         |
//! | month      | `2023-07`      | some day in July 2023            |
//! | year       | `2023`         | some day in 2023                 |
//! | estimate   | `~2023-07-17`  | around that day                  |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

use crate::error::Error;
use crate::vocab::DatePrecision;

/// A calendar date known to a stated precision.
///
/// The stored [`Date`] is normalised (day 1 for month precision, 1 January
/// for year precision), so two equal texts always give equal values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuzzyDate {
    date: Date,
    precision: DatePrecision,
}

impl FuzzyDate {
    /// A date known to the day.
    pub fn exact(year: i32, month: u8, day: u8) -> Result<Self, Error> {
        Self::new(year, month, day, DatePrecision::Exact)
    }

    /// A date known to the month.
    pub fn month(year: i32, month: u8) -> Result<Self, Error> {
        Self::new(year, month, 1, DatePrecision::Month)
    }

    /// A date known to the year.
    pub fn year(year: i32) -> Result<Self, Error> {
        Self::new(year, 1, 1, DatePrecision::Year)
    }

    /// An estimated day.
    pub fn estimate(year: i32, month: u8, day: u8) -> Result<Self, Error> {
        Self::new(year, month, day, DatePrecision::Estimate)
    }

    /// Builds a date; the day (and month) are normalised for coarse precisions.
    pub fn new(year: i32, month: u8, day: u8, precision: DatePrecision) -> Result<Self, Error> {
        if !(1000..=9999).contains(&year) {
            return Err(Error::invalid("date", format!("year {year} out of range")));
        }
        let (month, day) = match precision {
            DatePrecision::Year => (1, 1),
            DatePrecision::Month => (month, 1),
            DatePrecision::Exact | DatePrecision::Estimate => (month, day),
        };
        let m = Month::try_from(month)
            .map_err(|_| Error::invalid("date", format!("month {month} out of range")))?;
        let date = Date::from_calendar_date(year, m, day)
            .map_err(|e| Error::invalid("date", format!("{year}-{month:02}-{day:02}: {e}")))?;
        Ok(FuzzyDate { date, precision })
    }

    /// The (normalised) calendar date.
    pub fn date(&self) -> Date {
        self.date
    }

    /// The precision.
    pub fn precision(&self) -> DatePrecision {
        self.precision
    }
}

impl fmt::Display for FuzzyDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = (
            self.date.year(),
            u8::from(self.date.month()),
            self.date.day(),
        );
        match self.precision {
            DatePrecision::Exact => write!(f, "{y:04}-{m:02}-{d:02}"),
            DatePrecision::Month => write!(f, "{y:04}-{m:02}"),
            DatePrecision::Year => write!(f, "{y:04}"),
            DatePrecision::Estimate => write!(f, "~{y:04}-{m:02}-{d:02}"),
        }
    }
}

impl FromStr for FuzzyDate {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::invalid(
                "date",
                format!("{s:?} is not YYYY, YYYY-MM, YYYY-MM-DD or ~YYYY-MM-DD"),
            )
        };
        if s.len() > 11 {
            return Err(bad());
        }
        let (estimate, rest) = match s.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let parts: Vec<&str> = rest.split('-').collect();
        let num = |p: &str, len: usize| -> Result<u32, Error> {
            if p.len() != len || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        match (estimate, parts.as_slice()) {
            (false, [y]) => Self::year(num(y, 4)? as i32),
            (false, [y, m]) => Self::month(num(y, 4)? as i32, num(m, 2)? as u8),
            (e, [y, m, d]) => Self::new(
                num(y, 4)? as i32,
                num(m, 2)? as u8,
                num(d, 2)? as u8,
                if e {
                    DatePrecision::Estimate
                } else {
                    DatePrecision::Exact
                },
            ),
            _ => Err(bad()),
        }
    }
}

impl Serialize for FuzzyDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FuzzyDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
