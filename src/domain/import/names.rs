//! A whole name in one cell, split into the first and last name as people write it: `John
//! Smith`, `Smith, John`, `Mary Ann Smith`, `Ludwig van Beethoven`, `John Smith Jr.`.

/// Words that start a family name (`van Beethoven`, `de la Cruz`), in lower case.
const PARTICLES: [&str; 16] = [
    "van", "von", "der", "den", "de", "del", "della", "la", "le", "di", "da", "du", "dos", "st.", "bin", "al",
];

/// Words that end a name and belong with the family name (`Smith Jr.`), in lower case.
const SUFFIXES: [&str; 10] = ["jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "md", "esq."];

fn is(list: &[&str], word: &str) -> bool {
    list.contains(&word.to_lowercase().as_str())
}

/// `(first, last)`; a single word is a first name.
pub fn split(full: &str) -> (String, String) {
    let full = full.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((before, after)) = full.split_once(',') {
        let (before, after) = (before.trim(), after.trim());
        // "Smith, John" is last-name-first; "John Smith, Jr." only sets a suffix apart.
        if !after.is_empty() && !before.is_empty() && !is(&SUFFIXES, after) && !after.contains(',') {
            return (after.to_string(), before.to_string());
        }
        if is(&SUFFIXES, after) {
            let (first, last) = split(before);
            return (first, format!("{last} {after}").trim().to_string());
        }
    }
    let words: Vec<&str> = full.split(' ').filter(|w| !w.is_empty()).collect();
    if words.len() < 2 {
        return (full, String::new());
    }
    let mut start = words.len() - 1;
    if is(&SUFFIXES, words[start]) && start > 1 {
        start -= 1;
    }
    while start > 1 && is(&PARTICLES, words[start - 1]) {
        start -= 1;
    }
    (words[..start].join(" "), words[start..].join(" "))
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn names_split_as_people_write_them() {
        let cases = [
            ("John Smith", ("John", "Smith")),
            ("Smith, John", ("John", "Smith")),
            ("  Mary Ann   Smith ", ("Mary Ann", "Smith")),
            ("Ludwig van Beethoven", ("Ludwig", "van Beethoven")),
            ("Juan de la Cruz", ("Juan", "de la Cruz")),
            ("John Smith Jr.", ("John", "Smith Jr.")),
            ("John Smith, Jr.", ("John", "Smith Jr.")),
            ("González Pérez, María", ("María", "González Pérez")),
            ("Cher", ("Cher", "")),
            ("", ("", "")),
        ];
        for (full, (first, last)) in cases {
            assert_eq!(split(full), (first.to_string(), last.to_string()), "{full:?}");
        }
    }
}
