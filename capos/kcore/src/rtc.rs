//! The CMOS real-time clock's registers turned into Unix time: BCD or binary fields, 12- or
//! 24-hour mode, and the civil date to days since 1970-01-01 (the kernel reads the ports).

// region: rtc
/// The raw date and time registers as the RTC reported them (status register B says how).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtcRegisters {
    pub seconds: u8,
    pub minutes: u8,
    pub hours: u8,
    pub day: u8,
    pub month: u8,
    pub year: u8,
    /// Register 0x32, the century; 0 when the firmware leaves it unset.
    pub century: u8,
    /// Status register B: bit 2 set = binary fields, bit 1 set = 24-hour mode.
    pub status_b: u8,
}

/// Why the registers do not name a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtcError {
    /// A field is out of range after decoding (a dead battery reads as garbage).
    OutOfRange,
}

fn bcd(v: u8) -> u8 {
    (v >> 4) * 10 + (v & 0x0f)
}

/// Seconds since 1970-01-01 00:00:00 UTC for the registers (the RTC is assumed to keep UTC).
pub fn unix_seconds(r: &RtcRegisters) -> Result<u64, RtcError> {
    let binary = r.status_b & 0x04 != 0;
    let h24 = r.status_b & 0x02 != 0;
    let field = |v: u8| if binary { v } else { bcd(v) };
    let pm = !h24 && r.hours & 0x80 != 0;
    let mut hours = field(r.hours & 0x7f);
    if !h24 {
        // 12-hour mode: 12 AM is 0, 12 PM is 12.
        hours = (hours % 12) + if pm { 12 } else { 0 };
    }
    let (seconds, minutes, day, month) = (field(r.seconds), field(r.minutes), field(r.day), field(r.month));
    let century = match field(r.century) {
        c @ 19..=21 => u64::from(c),
        _ => 20,
    };
    let year = century * 100 + u64::from(field(r.year));
    if seconds > 59
        || minutes > 59
        || hours > 23
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || year < 1970
    {
        return Err(RtcError::OutOfRange);
    }
    let days = days_from_civil(year, u64::from(month), u64::from(day));
    Ok(days * 86_400 + u64::from(hours) * 3600 + u64::from(minutes) * 60 + u64::from(seconds))
}

/// Days from 1970-01-01 to the given date of the proleptic Gregorian calendar (year ≥ 1970),
/// counting in eras of 400 years that start on 1 March, so the leap day ends a year.
pub fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
// endregion: rtc

#[cfg(test)]
mod tests {
    use super::*;

    fn regs(bcd_time: [u8; 6], century: u8, status_b: u8) -> RtcRegisters {
        let [seconds, minutes, hours, day, month, year] = bcd_time;
        RtcRegisters { seconds, minutes, hours, day, month, year, century, status_b }
    }

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 12, 1), 20_788);
        assert_eq!(days_from_civil(2024, 2, 29) + 1, days_from_civil(2024, 3, 1));
    }

    #[test]
    fn bcd_24_hour_registers_give_unix_time() {
        // 2026-12-01 21:20:14 UTC is 1796160014 (`date -u -d @1796159014`).
        let r = regs([0x14, 0x20, 0x21, 0x01, 0x12, 0x26], 0x20, 0x02);
        assert_eq!(unix_seconds(&r), Ok(1_796_160_014));
    }

    #[test]
    fn binary_and_12_hour_modes_decode() {
        let binary = regs([14, 20, 21, 1, 12, 26], 20, 0x06);
        assert_eq!(unix_seconds(&binary), Ok(1_796_160_014));
        // 9 PM in 12-hour BCD: 0x09 with the PM bit.
        let pm = regs([0x14, 0x20, 0x89, 0x01, 0x12, 0x26], 0x20, 0x00);
        assert_eq!(unix_seconds(&pm), Ok(1_796_160_014));
        // 12 AM is hour 0.
        let midnight = regs([0, 0, 0x12, 0x01, 0x01, 0x70], 0x19, 0x00);
        assert_eq!(unix_seconds(&midnight), Ok(0));
    }

    #[test]
    fn garbage_is_refused_and_a_missing_century_means_20() {
        assert_eq!(unix_seconds(&regs([0x61, 0, 0, 1, 1, 0x26], 0x20, 0x02)), Err(RtcError::OutOfRange));
        assert_eq!(unix_seconds(&regs([0, 0, 0, 0, 1, 0x26], 0x20, 0x02)), Err(RtcError::OutOfRange));
        let no_century = regs([0x14, 0x20, 0x21, 0x01, 0x12, 0x26], 0x00, 0x02);
        assert_eq!(unix_seconds(&no_century), Ok(1_796_160_014));
    }
}
