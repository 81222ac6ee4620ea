//! How many SMS segments a text costs: 160 GSM-7 characters in one (153 each when split), or
//! 70 UCS-2 code units (67 each when split) as soon as one character is outside GSM-7.

/// GSM 03.38's basic set; the extension set's characters count twice.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const EXTENDED: &str = "^{}\\[~]|€\x0c";

/// `(characters as the network counts them, segments, whether it is GSM-7)`.
pub fn count(body: &str) -> (usize, usize, bool) {
    let mut gsm_units: usize = 0;
    let mut gsm = true;
    for c in body.chars() {
        if BASIC.contains(c) {
            gsm_units += 1;
        } else if EXTENDED.contains(c) {
            gsm_units += 2;
        } else {
            gsm = false;
            break;
        }
    }
    if gsm {
        let segments = if gsm_units <= 160 { 1 } else { gsm_units.div_ceil(153) };
        return (gsm_units, segments.max(1), true);
    }
    let units = body.encode_utf16().count();
    let segments = if units <= 70 { 1 } else { units.div_ceil(67) };
    (units, segments.max(1), false)
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_like_the_networks() {
        assert_eq!(count("Hi Ada"), (6, 1, true));
        assert_eq!(count(&"a".repeat(160)), (160, 1, true));
        assert_eq!(count(&"a".repeat(161)), (161, 2, true));
        assert_eq!(count(&"a".repeat(306)), (306, 2, true));
        assert_eq!(count(&"a".repeat(307)), (307, 3, true));
        // The euro sign is in the extension table: two units.
        assert_eq!(count("€5"), (3, 1, true));
        // One emoji makes the whole text UCS-2 (and it is two UTF-16 units).
        assert_eq!(count("Congrats on the house 🏡"), (24, 1, false));
        assert_eq!(count(&format!("{}é😀", "a".repeat(69))).1, 2);
        assert_eq!(count(""), (0, 1, true));
    }
}
