//! US and Canadian numbers without the phone library. Nearly every number in this household's
//! books is one, and the library reads each through a dozen large regular expressions whose
//! matching caches grow per thread that used them: 80 µs and several MB per import thread.
//! This path answers only where the library's answer is certain (see `AREA_CODES`) and leaves
//! everything else — other countries, extensions, letters, the US's few 4-digit-prefixed
//! ranges — to it.

/// The area codes whose fixed-line and mobile patterns, in the phone library's metadata
/// (libphonenumber 9.0.33, US and CA), accept every number `NPA [2-9]XX XXXX`. A test holds the
/// library to each of them; an area code added to the metadata later is still read, by the
/// library.
const AREA_CODES: [u16; 411] = [
    201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 220, 223, 224, 225, 226,
    227, 228, 229, 231, 234, 235, 236, 239, 240, 248, 249, 250, 251, 252, 253, 254, 256, 257, 260, 262, 263, 267, 269,
    270, 272, 276, 279, 281, 283, 289, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310, 312, 313, 314, 315, 316, 317,
    318, 319, 320, 321, 323, 324, 325, 326, 327, 329, 330, 331, 332, 334, 336, 337, 339, 341, 343, 346, 347, 350, 351,
    352, 353, 354, 360, 361, 363, 364, 365, 367, 368, 369, 380, 382, 385, 386, 401, 402, 403, 404, 405, 406, 407, 408,
    409, 410, 412, 413, 414, 415, 416, 417, 418, 419, 423, 424, 425, 428, 430, 431, 432, 434, 435, 437, 438, 440, 442,
    443, 445, 447, 448, 450, 458, 463, 464, 468, 469, 470, 474, 475, 478, 479, 480, 484, 501, 502, 503, 504, 505, 506,
    507, 508, 509, 510, 512, 513, 514, 515, 516, 517, 518, 519, 520, 530, 531, 534, 539, 540, 541, 548, 551, 557, 559,
    561, 562, 563, 564, 567, 570, 571, 572, 573, 574, 575, 579, 580, 581, 582, 584, 585, 586, 587, 601, 602, 603, 604,
    605, 606, 607, 608, 609, 610, 612, 613, 614, 615, 616, 617, 618, 619, 620, 623, 626, 628, 629, 630, 631, 636, 639,
    640, 641, 645, 646, 647, 650, 651, 656, 657, 659, 660, 661, 662, 667, 669, 672, 678, 680, 681, 682, 683, 686, 689,
    701, 702, 703, 704, 705, 706, 707, 708, 709, 712, 713, 714, 715, 716, 717, 718, 719, 720, 724, 725, 726, 727, 728,
    730, 731, 732, 734, 737, 738, 740, 742, 743, 747, 748, 753, 754, 757, 760, 762, 763, 765, 769, 770, 771, 772, 773,
    774, 775, 778, 779, 780, 781, 782, 785, 786, 801, 802, 803, 804, 805, 806, 807, 808, 810, 812, 813, 814, 815, 816,
    817, 818, 819, 820, 821, 825, 826, 828, 830, 831, 832, 835, 838, 839, 840, 843, 845, 847, 848, 850, 854, 856, 857,
    858, 859, 860, 862, 863, 864, 865, 867, 870, 872, 873, 878, 879, 901, 902, 903, 904, 905, 906, 907, 908, 909, 910,
    912, 913, 914, 915, 916, 917, 918, 919, 920, 925, 928, 929, 930, 931, 934, 936, 937, 938, 940, 941, 942, 943, 945,
    947, 948, 949, 951, 952, 954, 956, 959, 970, 971, 972, 973, 975, 978, 979, 980, 984, 985, 986, 989,
];

const fn area_table() -> [bool; 1000] {
    let mut table = [false; 1000];
    let mut i = 0;
    while i < AREA_CODES.len() {
        table[AREA_CODES[i] as usize] = true;
        i += 1;
    }
    table
}

static KNOWN_AREA: [bool; 1000] = area_table();

/// The ten national digits, when they are a number the library would call valid.
fn national(digits: &[u8]) -> Option<&str> {
    if digits.len() != 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let area = digits[..3].iter().fold(0, |sum, d| sum * 10 + usize::from(d - b'0'));
    let exchange_ok = (b'2'..=b'9').contains(&digits[3]);
    (KNOWN_AREA[area] && exchange_ok)
        .then(|| std::str::from_utf8(digits).ok())
        .flatten()
}

/// `text` in E.164, when it is plainly a NANP number: digits and the usual separators only,
/// `+1` and ten digits, or (in a US or Canadian default region) ten digits with an optional
/// leading 1, the national prefix.
pub(super) fn e164(text: &str, default_region: &str) -> Option<String> {
    let (international, rest) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None if matches!(default_region, "US" | "CA") => (false, text),
        None => return None,
    };
    if !rest.starts_with(|c: char| c.is_ascii_digit() || (!international && c == '(')) {
        return None;
    }
    let mut digits = [0u8; 11];
    let mut count = 0;
    for byte in rest.bytes() {
        match byte {
            b'0'..=b'9' if count < digits.len() => {
                digits[count] = byte;
                count += 1;
            }
            b' ' | b'-' | b'.' | b'(' | b')' => {}
            _ => return None,
        }
    }
    let digits = match (international, count) {
        (_, 11) if digits[0] == b'1' => &digits[1..11],
        (false, 10) => &digits[..10],
        _ => return None,
    };
    national(digits).map(|n| format!("+1{n}"))
}

/// A stored `+1…` number as the library's international format writes it: `+1 415-555-0123`.
pub(super) fn display(e164: &str) -> Option<String> {
    let n = national(e164.strip_prefix("+1")?.as_bytes())?;
    Some(format!("+1 {}-{}-{}", &n[..3], &n[3..6], &n[6..]))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use phonenumber::{Mode, country};

    use super::*;

    /// What the library makes of `text`: its E.164 when valid.
    fn library(text: &str, region: &str) -> Option<String> {
        let region = (!text.starts_with('+'))
            .then(|| country::Id::from_str(region).ok())
            .flatten();
        let number = phonenumber::parse(region, text).ok()?;
        phonenumber::is_valid(&number).then(|| number.format().mode(Mode::E164).to_string())
    }

    #[test]
    fn every_known_area_code_is_valid_to_the_library() {
        for area in AREA_CODES {
            for exchange in 2..=9 {
                let number = format!("+1{area}{exchange}555012");
                assert_eq!(library(&number, "US"), Some(number.clone()), "{number}");
                assert_eq!(e164(&number, "US"), Some(number.clone()));
                let parsed = phonenumber::parse(None, &number).unwrap();
                let shown = parsed.format().mode(Mode::International).to_string();
                assert_eq!(display(&number), Some(shown), "{number}");
            }
        }
    }

    #[test]
    fn reads_what_the_library_reads_or_leaves_it_to_the_library() {
        let written = [
            "(415) 555-0123",
            "415-555-0123",
            "415.555.0123",
            "4155550123",
            "1 415 555 0123",
            "1-415-555-0123",
            "14155550123",
            "+1 415 555 0123",
            "+1 (415) 555-0123",
            "+14155550123",
            "(604) 555-0199",
            "+1 604 555 0199",
            // Left to the library: a 0/1 exchange, unknown or 4-digit-keyed area codes,
            // other countries, extensions, letters, too few or too many digits.
            "415-155-0123",
            "(999) 555-0123",
            "+1 274 255 0123",
            "+1 876 555 0123",
            "+44 20 7946 0958",
            "+4155550123",
            "415-555-0123 x12",
            "1-800-FLOWERS",
            "555-0123",
            "415-555-01234",
            "2 415 555 0123",
        ];
        for text in written {
            for region in ["US", "CA", "DE"] {
                if let Some(fast) = e164(text, region) {
                    assert_eq!(library(text, region), Some(fast), "{text} in {region}");
                }
            }
        }
        assert_eq!(e164("(415) 555-0123", "DE"), None, "a German default region");
        assert_eq!(e164("415-155-0123", "US"), None);
        assert_eq!(e164("+1 876 555 0123", "US"), None);
        assert_eq!(e164("415-555-0123 x12", "US"), None);
        assert_eq!(e164("1-415-555-0123", "US").as_deref(), Some("+14155550123"));
        assert_eq!(e164("(604) 555-0199", "CA").as_deref(), Some("+16045550199"));
        assert_eq!(e164("+1 415 555 0123", "DE").as_deref(), Some("+14155550123"));
        assert_eq!(display("+861065529988"), None);
        assert_eq!(display("+1415555012x"), None);
    }
}
