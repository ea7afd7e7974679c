//! ISO 639-1 language codes: the 183 two-letter codes of the standard as
//! maintained by its registration authority (the Library of Congress), with
//! the withdrawn `bh` left out. awork's `language` is "in ISO 639-1 format",
//! and the spec's own example is `en-GB`: a BCP 47 tag whose primary
//! language subtag is ISO 639-1.

/// Sorted, so membership is a binary search.
const CODES: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bi",
    "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de",
    "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy",
    "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia",
    "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk",
    "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo",
    "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd",
    "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl",
    "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl",
    "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk",
    "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa",
    "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// True for a current ISO 639-1 code, written in lower case as the standard
/// writes it.
pub(super) fn is_iso_639_1(code: &str) -> bool {
    CODES.binary_search(&code).is_ok()
}

/// True for an ISO 639-1 code alone (`en`) or followed by a script and/or
/// a region as BCP 47 writes them: `en-GB`, `zh-Hant`, `zh-Hant-TW`,
/// `es-419`. Subtags are case-sensitive in their conventional case, as the
/// spec's examples write them (`en-GB`, `de-DE`).
pub(super) fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    if !parts.next().is_some_and(is_iso_639_1) {
        return false;
    }
    let mut rest: Vec<&str> = parts.collect();
    if rest.first().is_some_and(|s| is_script(s)) {
        rest.remove(0);
    }
    match rest.as_slice() {
        [] => true,
        [region] => is_region(region),
        _ => false,
    }
}

/// `Latn`, `Hant`: four letters, the first upper case.
fn is_script(subtag: &str) -> bool {
    let bytes = subtag.as_bytes();
    bytes.len() == 4
        && bytes[0].is_ascii_uppercase()
        && bytes[1..].iter().all(u8::is_ascii_lowercase)
}

/// `GB` (ISO 3166-1 alpha-2, upper case) or `419` (UN M.49).
fn is_region(subtag: &str) -> bool {
    let bytes = subtag.as_bytes();
    (bytes.len() == 2 && bytes.iter().all(u8::is_ascii_uppercase))
        || (bytes.len() == 3 && bytes.iter().all(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_complete_sorted_and_lower_case() {
        assert_eq!(CODES.len(), 183);
        assert!(CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(CODES
            .iter()
            .all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_lowercase())));
    }

    #[test]
    fn real_codes_pass_and_look_alikes_do_not() {
        for ok in ["en", "de", "da", "zh", "nb", "zu"] {
            assert!(is_iso_639_1(ok), "{ok}");
        }
        for bad in ["EN", "eng", "xx", "bh", "qq", "e", "", "en-US"] {
            assert!(!is_iso_639_1(bad), "{bad}");
        }
    }

    #[test]
    fn tags_need_an_iso_639_1_primary_subtag_and_well_formed_rest() {
        for ok in ["en", "en-GB", "de-DE", "zh-Hant", "zh-Hant-TW", "es-419"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in [
            "",
            "EN",
            "en-",
            "en-gb",
            "eng-GB",
            "xx-GB",
            "en-GB-x",
            "en-GBR",
            "en_GB",
            "en-Hant-GB-DE",
        ] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }
}
